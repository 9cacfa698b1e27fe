"""The Runflow line: the sandbox over real HTTP answers (with our balance); an address
nothing listens on, or a refused key, is a problem line and never a crash or a hang."""

import time
from typing import Any

from django.utils import timezone
from prometheus_client import REGISTRY

from seedance.doctor.findings import Context, Severity
from seedance.doctor.runflow import TIMEOUT_SECONDS, runflow_section
from seedance.sandbox import SandboxServer
from tests.processes import free_port
from tests.seedance.doctor.helpers import finding


def reachability(*, offline: bool = False) -> Any:
    return finding(
        runflow_section(Context(now=timezone.now(), offline=offline)), "runflow.reachable"
    )


def network_errors() -> float:
    labels = {"operation": "balance", "reason": "network"}
    return REGISTRY.get_sample_value("seedance_runflow_errors_total", labels) or 0.0


def point_at(settings: Any, base_url: str, **more: Any) -> None:
    settings.SEEDANCE = {**settings.SEEDANCE, "RUNFLOW_BASE_URL": base_url, **more}


def test_the_sandbox_answers_with_our_balance(sandbox_server: SandboxServer, settings: Any) -> None:
    point_at(settings, sandbox_server.base_url)
    found = reachability()
    assert found.severity is Severity.OK
    assert found.details["balance_cents"] == sandbox_server.sandbox.balance_cents
    assert "answered in" in found.what


def test_an_unreachable_runflow_is_a_problem_line_without_retries(settings: Any) -> None:
    point_at(settings, f"http://127.0.0.1:{free_port()}/v1")
    before = network_errors()
    started = time.monotonic()
    found = reachability()
    assert time.monotonic() - started < TIMEOUT_SECONDS
    assert network_errors() == before + 1  # one attempt, counted as the balance read
    assert found.severity is Severity.PROBLEM
    assert "did not answer" in found.what
    assert "reconciler" in found.todo


def test_a_refused_key_is_a_problem_naming_the_setting(
    sandbox_server: SandboxServer, settings: Any
) -> None:
    point_at(settings, sandbox_server.base_url, RUNFLOW_API_KEY="not-a-runflow-key")
    found = reachability()
    assert found.severity is Severity.PROBLEM
    assert "RUNFLOW_API_KEY" in found.todo


def test_a_missing_key_is_a_problem_not_an_exception(settings: Any) -> None:
    point_at(settings, "http://127.0.0.1:9/v1", RUNFLOW_API_KEY="")
    found = reachability()
    assert found.severity is Severity.PROBLEM
    assert "not configured" in found.what


def test_offline_asks_nothing(settings: Any) -> None:
    point_at(settings, f"http://127.0.0.1:{free_port()}/v1")
    found = reachability(offline=True)
    assert (found.severity, found.details) == (Severity.OK, {"skipped": True})
