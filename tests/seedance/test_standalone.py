"""seedance stands on its own: with billing out of INSTALLED_APPS every portal page renders.

The pages are enumerated from the resolver of the project's URLconf, which then has none of
billing's includes, in a process of its own (tests/seedance/standalone_probe.py).
"""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def probe() -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "tests.seedance.standalone_probe"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={
            "PATH": "/usr/bin:/bin",
            "VAR_DIR": str(ROOT / "var" / "standalone"),
            "SECRET_KEY": os.environ["SECRET_KEY"],
        },
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_urlconf_without_billing_has_none_of_its_namespaces(probe: dict[str, Any]) -> None:
    assert "portal" in probe["namespaces"]
    assert not [name for name in probe["namespaces"] if name.startswith("billing")]


def test_every_portal_page_renders_without_billing(probe: dict[str, Any]) -> None:
    failures = [page for page in probe["pages"] if "error" in page or page["status"] >= 500]
    assert failures == []


def test_the_main_portal_pages_are_among_those_rendered(probe: dict[str, Any]) -> None:
    status = {page["name"]: page.get("status") for page in probe["pages"]}
    for name in (
        "portal:run-list",
        "portal:run-create",
        "portal:run-detail",
        "portal:manage",
        "portal:webhooks",
        "portal:webhook-endpoint",
    ):
        assert status[name] == 200, name
