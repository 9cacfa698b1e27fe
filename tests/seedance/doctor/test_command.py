"""``manage.py runs_doctor``: text grouped by section with what to do, ``--json`` carrying
the same findings, exit 1 only when a finding is a problem, and one section's crash
reported as its own problem line."""

import json
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from seedance.doctor import registry
from seedance.doctor.findings import Context, Section
from seedance.models import Run, Tenant
from tests.factories import finish_successfully, make_run
from tests.processes import free_port

pytestmark = pytest.mark.django_db


def doctor(*args: str) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("runs_doctor", *args, stdout=out)
    except SystemExit as exit_:
        return int(exit_.code or 0), out.getvalue()
    return 0, out.getvalue()


def stuck_run(tenant: Tenant) -> Run:
    run = make_run(tenant)
    Run.objects.filter(pk=run.pk).update(created_at=timezone.now() - timedelta(hours=1))
    return run


def test_a_healthy_deployment_exits_0_with_every_section() -> None:
    code, out = doctor("--offline")
    assert code == 0
    for title in ("== Runs (ok)", "== Tasks and queue (ok)", "== Tenant webhooks (ok)"):
        assert title in out
    assert "== Runflow (ok)" in out
    assert out.rstrip().endswith("0 problem(s), 0 warning(s).")


def test_warnings_alone_exit_0(tenant: Tenant) -> None:
    finish_successfully(make_run(tenant), nsfw_detected=True)
    code, out = doctor("--offline")
    assert code == 0
    assert "WARNING 1 video(s) flagged NSFW wait for review" in out
    assert "→ Approve or reject each in the review queue" in out


def test_a_problem_exits_1_and_lists_the_run_with_what_to_do(tenant: Tenant) -> None:
    run = stuck_run(tenant)
    code, out = doctor("--offline")
    assert code == 1
    assert "PROBLEM 1 run(s) queued and never submitted" in out
    assert str(run.pk) in out
    assert "→ The reconciler settles these every minute" in out


def test_json_carries_the_same_findings_and_exit_code(tenant: Tenant) -> None:
    run = stuck_run(tenant)
    code, out = doctor("--offline", "--json")
    document = json.loads(out)
    assert code == 1
    assert document["severity"] == "problem"
    runs = next(s for s in document["sections"] if s["name"] == "runs")
    stuck = next(f for f in runs["findings"] if f["code"] == "runs.stuck.never_submitted")
    assert stuck["severity"] == "problem"
    assert stuck["items"] == [str(run.pk)]
    assert stuck["count"] == 1
    assert "reconcile-runs" in stuck["todo"]
    _, text = doctor("--offline")
    assert [f["what"] for s in document["sections"] for f in s["findings"]] == [
        line.split(maxsplit=1)[1]
        for line in text.splitlines()
        if line.startswith(("  ok", "  WARNING", "  PROBLEM"))
    ]


def test_without_offline_an_unreachable_runflow_is_a_problem(settings: Any) -> None:
    settings.SEEDANCE = {
        **settings.SEEDANCE,
        "RUNFLOW_BASE_URL": f"http://127.0.0.1:{free_port()}/v1",
    }
    code, out = doctor()
    assert code == 1
    assert "did not answer" in out


def test_a_section_that_crashes_is_its_own_problem_line(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(context: Context) -> Section:
        raise RuntimeError("table missing")

    monkeypatch.setattr(registry, "_SECTIONS", {**registry._SECTIONS, "broken": broken})
    code, out = doctor("--offline", "--json")
    sections = {s["name"]: s for s in json.loads(out)["sections"]}
    assert code == 1
    assert sections["broken"]["findings"][0]["code"] == "broken.failed"
    assert "RuntimeError: table missing" in sections["broken"]["findings"][0]["what"]
    assert sections["runs"]["severity"] == "ok"


def test_seedance_registers_its_sections_first() -> None:
    assert registry.registered_sections()[:4] == ["runs", "tasks", "webhooks", "runflow"]
