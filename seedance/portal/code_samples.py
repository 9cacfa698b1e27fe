"""Copy-as-code: a run's exact inputs as the API request that makes it, in curl, Python
(httpx) and JavaScript (fetch). The key is a placeholder ($SEEDANCE_API_KEY) and the base
URL is PUBLIC_BASE_URL. static/portal/code_samples.js builds the same text from the create
form's current values; tests/seedance/test_portal_code_samples.py holds the two together."""

import json
from dataclasses import dataclass
from typing import Any

from seedance.conf import setting
from seedance.models import Run

API_KEY_PLACEHOLDER = "$SEEDANCE_API_KEY"
#: The order the API documents the inputs in; the samples list them so.
INPUT_NAMES = ("prompt", "aspect_ratio", "duration", "resolution", "generate_audio", "seed")


@dataclass(frozen=True)
class CodeSample:
    key: str
    label: str
    code: str


def runs_url() -> str:
    return f"{str(setting('PUBLIC_BASE_URL')).rstrip('/')}/api/v1/runs"


def run_inputs(run: Run) -> dict[str, Any]:
    return {name: getattr(run, name) for name in INPUT_NAMES}


def _json(inputs: dict[str, Any]) -> str:
    return json.dumps(inputs, indent=2, ensure_ascii=False)


def _python_literal(value: Any) -> str:
    if value is None:
        return "None"
    if isinstance(value, bool):
        return "True" if value else "False"
    return json.dumps(value, ensure_ascii=False)


def _python_dict(inputs: dict[str, Any]) -> str:
    lines = [f"        {json.dumps(name)}: {_python_literal(v)}," for name, v in inputs.items()]
    return "{\n" + "\n".join(lines) + "\n    }"


def code_samples(inputs: dict[str, Any], *, idempotency_key: str) -> list[CodeSample]:
    url = runs_url()
    body = _json(inputs)
    curl = (
        f"curl -X POST {url} \\\n"
        f'  -H "Authorization: Bearer {API_KEY_PLACEHOLDER}" \\\n'
        '  -H "Content-Type: application/json" \\\n'
        f'  -H "Idempotency-Key: {idempotency_key}" \\\n'
        "  -d '" + body.replace("'", "'\\''") + "'"
    )
    python = (
        "import os\n\nimport httpx\n\n"
        "response = httpx.post(\n"
        f"    {json.dumps(url)},\n"
        "    headers={\n"
        '        "Authorization": f"Bearer {os.environ[\'SEEDANCE_API_KEY\']}",\n'
        f'        "Idempotency-Key": {json.dumps(idempotency_key)},\n'
        "    },\n"
        f"    json={_python_dict(inputs)},\n"
        ')\nresponse.raise_for_status()\nprint(response.json()["id"])'
    )
    javascript = (
        f"const response = await fetch({json.dumps(url)}, {{\n"
        '  method: "POST",\n'
        "  headers: {\n"
        "    Authorization: `Bearer ${process.env.SEEDANCE_API_KEY}`,\n"
        '    "Content-Type": "application/json",\n'
        f'    "Idempotency-Key": {json.dumps(idempotency_key)},\n'
        "  },\n"
        f"  body: JSON.stringify({_indent(body, 2)}),\n"
        "});\nconst run = await response.json();\nconsole.log(run.id);"
    )
    return [
        CodeSample("curl", "curl", curl),
        CodeSample("python", "Python (httpx)", python),
        CodeSample("javascript", "JavaScript (fetch)", javascript),
    ]


def _indent(text: str, spaces: int) -> str:
    return text.replace("\n", "\n" + " " * spaces)
