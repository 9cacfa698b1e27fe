"""Request checks as strict as Runflow's, so a client bug fails here and not in production.

Errors come back as ``[{"field": "input.duration", "message": ...}]``, the shape of
Runflow's 422 ``errors`` list.
"""

from typing import Any
from urllib.parse import urlsplit

from seedance.run_input import ASPECT_RATIOS, DURATIONS, RESOLUTIONS

CLIENT_REF_MAX = 255
INPUT_FIELDS = (
    "prompt",
    "aspect_ratio",
    "duration",
    "resolution",
    "generate_audio",
    "seed",
    "end_user_id",
)

FieldErrors = list[dict[str, str]]


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _input_errors(data: Any) -> FieldErrors:
    if not isinstance(data, dict):
        return [{"field": "input", "message": "Required, a JSON object."}]
    errors: FieldErrors = []

    def refuse(name: str, message: str) -> None:
        errors.append({"field": f"input.{name}", "message": message})

    prompt = data.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        refuse("prompt", "Required, a non-empty string.")
    for name, allowed in (
        ("aspect_ratio", ASPECT_RATIOS),
        ("duration", DURATIONS),
        ("resolution", RESOLUTIONS),
    ):
        if name in data and (not isinstance(data[name], str) or data[name] not in allowed):
            refuse(name, f"Must be a string, one of: {', '.join(allowed)}.")
    if "generate_audio" in data and not isinstance(data["generate_audio"], bool):
        refuse("generate_audio", "Must be a boolean.")
    if "seed" in data and data["seed"] is not None and not _is_int(data["seed"]):
        refuse("seed", "Must be an integer.")
    if "end_user_id" in data and not isinstance(data["end_user_id"], str):
        refuse("end_user_id", "Must be a string.")
    for name in data:
        if name not in INPUT_FIELDS:
            refuse(str(name), "Unknown field for this model.")
    return errors


def create_errors(body: dict[str, Any]) -> FieldErrors:
    """Every broken rule of a create body, so a caller can fix them all at once."""
    errors = _input_errors(body.get("input"))
    callback_url = body.get("callback_url")
    if callback_url is not None:
        parts = urlsplit(callback_url) if isinstance(callback_url, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
            errors.append({"field": "callback_url", "message": "Must be an http(s) URL."})
    metadata = body.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        errors.append({"field": "metadata", "message": "Must be a JSON object or null."})
    client_ref = body.get("client_ref")
    if client_ref is not None and (
        not isinstance(client_ref, str) or len(client_ref) > CLIENT_REF_MAX
    ):
        message = f"Must be a string of at most {CLIENT_REF_MAX} characters."
        errors.append({"field": "client_ref", "message": message})
    return errors
