"""Submitting a run: claimed once, created upstream once, whatever Runflow answers."""

import threading
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from seedance.models import Run
from seedance.runflow.client import RunflowClient
from seedance.sandbox import SandboxServer
from seedance.services.submission import run_submit
from seedance.states import RunStatus
from tests.factories import make_run
from tests.seedance.conftest import wait_for_run

pytestmark = pytest.mark.django_db(transaction=True)


def no_sleep_client(**kwargs: Any) -> RunflowClient:
    return RunflowClient(sleep=lambda seconds: None, **kwargs)


def test_submitted_run_finishes_through_the_signed_callback(
    tenant: Any, sandbox: SandboxServer
) -> None:
    run = make_run(tenant, resolution="480p", duration="4")
    run_submit(run.pk)
    run.refresh_from_db()
    assert run.provider_run_id is not None
    assert run.submitted_at is not None
    upstream = sandbox.runs(client_ref=str(run.pk))
    assert len(upstream) == 1
    assert upstream[0]["metadata"] == {"seedance_run_id": str(run.pk)}
    assert upstream[0]["callback_url"].endswith(f"/hooks/runflow/runs/{run.pk}/")
    assert upstream[0]["input"]["duration"] == "4"
    run = wait_for_run(run)
    assert run.status == RunStatus.SUCCEEDED
    assert run.outputs[0]["type"] == "video/mp4"


def test_submitting_twice_creates_one_upstream_run(tenant: Any, sandbox: SandboxServer) -> None:
    run = make_run(tenant)
    run_submit(run.pk)
    run_submit(run.pk)
    assert sandbox.count_runs(client_ref=str(run.pk)) == 1
    assert Run.objects.get(pk=run.pk).submit_attempts == 1


def test_concurrent_submits_create_one_upstream_run(tenant: Any, sandbox: SandboxServer) -> None:
    if connection.vendor == "sqlite":
        pytest.skip("needs concurrent writers (PostgreSQL)")
    run = make_run(tenant)
    barrier = threading.Barrier(8)

    def submit() -> None:
        barrier.wait()
        try:
            run_submit(run.pk)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sandbox.count_runs(client_ref=str(run.pk)) == 1


def test_canceled_run_is_never_submitted(tenant: Any, sandbox: SandboxServer) -> None:
    run = make_run(tenant, status=RunStatus.CANCELED, completed_at=timezone.now())
    run_submit(run.pk)
    assert sandbox.count_runs(client_ref=str(run.pk)) == 0


def test_create_refused_with_429_then_503_is_retried_into_one_run(
    tenant: Any, sandbox: SandboxServer
) -> None:
    run = make_run(tenant)
    sandbox.faults.set_for(str(run.pk), create_errors=[429, 503])
    run_submit(run.pk, client=no_sleep_client())
    run.refresh_from_db()
    assert run.provider_run_id is not None
    assert sandbox.count_runs(client_ref=str(run.pk)) == 1


def test_each_create_attempt_notes_its_send_time_under_the_claim(
    tenant: Any, sandbox: SandboxServer
) -> None:
    run = make_run(tenant)
    sandbox.faults.set_for(str(run.pk), create_errors=[503])
    sent: list[Any] = []

    def between_attempts(seconds: float) -> None:
        sent.append(Run.objects.get(pk=run.pk).create_sent_at)

    before = timezone.now()
    run_submit(run.pk, client=RunflowClient(sleep=between_attempts))
    run.refresh_from_db()

    assert sent[0] is not None
    assert before <= sent[0] < run.create_sent_at
    assert run.provider_run_id is not None


def test_a_submit_taken_over_while_it_waits_to_retry_sends_nothing_more(
    tenant: Any, sandbox: SandboxServer
) -> None:
    """The reconciler may take over once the refused attempt's window is over: the old
    submit, waking to retry, finds its claim gone and stops, so one create goes out."""
    run = make_run(tenant)
    sandbox.faults.set_for(str(run.pk), create_errors=[503])

    def reconciler_takes_over(seconds: float) -> None:
        stale = Run.objects.get(pk=run.pk).claimed_at
        run_submit(run.pk, stale_claim=stale, upstream_checked=True)

    run_submit(run.pk, client=RunflowClient(sleep=reconciler_takes_over))

    run.refresh_from_db()
    assert run.provider_run_id is not None
    assert run.submit_attempts == 2
    assert sandbox.count_runs(client_ref=str(run.pk)) == 1


def test_create_refused_every_time_releases_the_claim_for_the_reconciler(
    tenant: Any, sandbox: SandboxServer
) -> None:
    run = make_run(tenant)
    sandbox.faults.set_for(str(run.pk), create_errors=[429] * 5)
    run_submit(run.pk, client=no_sleep_client())
    run.refresh_from_db()
    assert run.status == RunStatus.QUEUED
    assert run.claimed_at is None
    assert run.provider_run_id is None
    assert sandbox.count_runs(client_ref=str(run.pk)) == 0


def test_input_runflow_refuses_fails_the_run_with_runflows_code(
    tenant: Any, sandbox: SandboxServer
) -> None:
    run = make_run(tenant, duration="3")  # bypasses our validation, as a stale rule would
    run_submit(run.pk)
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert run.failure_code == "VALIDATION_ERROR"
    assert sandbox.count_runs(client_ref=str(run.pk)) == 0


def test_wrong_platform_key_keeps_the_run_queued(
    tenant: Any, sandbox: SandboxServer, settings: Any
) -> None:
    settings.SEEDANCE = {**settings.SEEDANCE, "RUNFLOW_API_KEY": "not-a-runflow-key"}
    run = make_run(tenant)
    run_submit(run.pk)
    run.refresh_from_db()
    assert run.status == RunStatus.QUEUED
    assert run.claimed_at is None


@pytest.mark.parametrize("mode", ["drop", "500", "timeout"])
def test_lost_create_answer_is_found_by_client_ref_not_resent(
    tenant: Any, sandbox: SandboxServer, settings: Any, mode: str
) -> None:
    settings.SEEDANCE = {**settings.SEEDANCE, "RUNFLOW_TIMEOUT": 0.5}
    run = make_run(tenant, resolution="480p", duration="4")
    sandbox.faults.set_for(str(run.pk), lose_create_answer=mode, lose_create_timeout=1.5)
    run_submit(run.pk, client=no_sleep_client())
    run.refresh_from_db()
    assert sandbox.count_runs(client_ref=str(run.pk)) == 1
    assert run.provider_run_id == sandbox.runs(client_ref=str(run.pk))[0]["id"]
    assert wait_for_run(run).status == RunStatus.SUCCEEDED
