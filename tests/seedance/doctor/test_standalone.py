"""seedance's doctor stands on its own: without billing installed its sections all run and
billing's is simply absent (tests/seedance/doctor/standalone_probe.py, in its own process)."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_without_billing_the_doctor_has_seedances_sections_only() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tests.seedance.doctor.standalone_probe"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={
            "PATH": "/usr/bin:/bin",
            "VAR_DIR": str(ROOT / "var" / "standalone"),
            "SECRET_KEY": os.environ["SECRET_KEY"],
            "WEBHOOK_SECRET_KEYS": os.environ["WEBHOOK_SECRET_KEYS"],
        },
        check=False,
    )
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert [s["name"] for s in document["sections"]] == ["runs", "tasks", "webhooks", "runflow"]
    assert document["severity"] == "ok"
