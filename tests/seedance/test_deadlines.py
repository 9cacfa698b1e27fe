"""The deadline and the hard limit, through the sandbox over real HTTP: a run Runflow still
works on is flagged and kept, failed only at the hard limit; a refused lookup is never
resubmitted; a success Runflow reports after we failed a run is recorded once, paid not
billed."""

import time
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from seedance.conf import setting, submit_worst_case_seconds
from seedance.models import Run, RunDiscrepancy
from seedance.outcomes import DEADLINE_EXCEEDED, LOOKUP_REFUSED, PROVIDER_FAILED
from seedance.runflow.client import RunflowClient
from seedance.sandbox import SandboxServer
from seedance.services.reconcile import reconcile_runs
from seedance.services.submission import run_submit
from seedance.states import Attention, RunStatus
from tests.factories import make_run

pytestmark = pytest.mark.django_db(transaction=True)

UNKNOWN_STATUS = "awaiting_capacity"


@pytest.fixture
def eager(settings: Any) -> None:
    settings.SEEDANCE = {
        **settings.SEEDANCE,
        "RECONCILE_QUEUED_AFTER_SECONDS": 0,
        "RECONCILE_POLL_AFTER_SECONDS": 0,
    }


def no_sleep() -> RunflowClient:
    return RunflowClient(sleep=lambda seconds: None)


def hard_limit_passed(run: Run) -> datetime:
    return run.created_at + timedelta(seconds=int(setting("RUN_HARD_LIMIT_SECONDS")) + 1)


def submitted_reporting(sandbox: SandboxServer, tenant: Any, status: str) -> Run:
    """A run Runflow has made and keeps reporting ``status`` for; no callback comes."""
    run = make_run(tenant, resolution="480p", duration="4")
    sandbox.faults.set_for(
        str(run.pk), report_status=status, running_seconds=600, drop_callbacks=True
    )
    run_submit(run.pk)
    run.refresh_from_db()
    assert run.provider_run_id is not None
    return run


def lost_create(tenant: Any) -> Run:
    """Claimed longer ago than a submit can take, with no provider id: the reconciler's."""
    claimed_at = timezone.now() - timedelta(seconds=submit_worst_case_seconds() + 1)
    return make_run(tenant, claimed_at=claimed_at, submit_attempts=1)


def test_errored_reported_by_runflow_fails_the_run(
    tenant: Any, sandbox: SandboxServer, eager: None
) -> None:
    run = submitted_reporting(sandbox, tenant, "errored")
    reconcile_runs()
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert run.failure_code == PROVIDER_FAILED


def test_unknown_status_past_the_deadline_is_flagged_and_kept_in_progress(
    tenant: Any, sandbox: SandboxServer, eager: None
) -> None:
    run = submitted_reporting(sandbox, tenant, UNKNOWN_STATUS)
    past_deadline = run.deadline_at + timedelta(minutes=1)

    report = reconcile_runs(now=past_deadline)

    run.refresh_from_db()
    assert run.status == RunStatus.RUNNING
    assert (run.attention, run.attention_since) == (Attention.OVERDUE, past_deadline)
    assert report.flagged == 1
    assert report.expired == 0


def test_unknown_status_before_the_deadline_is_not_flagged(
    tenant: Any, sandbox: SandboxServer, eager: None
) -> None:
    run = submitted_reporting(sandbox, tenant, UNKNOWN_STATUS)
    reconcile_runs()
    run.refresh_from_db()
    assert run.status == RunStatus.RUNNING
    assert run.attention == Attention.NONE


def test_unknown_status_fails_deadline_exceeded_only_at_the_hard_limit(
    tenant: Any, sandbox: SandboxServer, eager: None
) -> None:
    run = submitted_reporting(sandbox, tenant, UNKNOWN_STATUS)
    just_before = hard_limit_passed(run) - timedelta(seconds=2)
    reconcile_runs(now=just_before)
    assert Run.objects.get(pk=run.pk).status == RunStatus.RUNNING

    reconcile_runs(now=hard_limit_passed(run))

    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert run.failure_code == DEADLINE_EXCEEDED
    assert UNKNOWN_STATUS in run.failure_message
    assert "still reported it in progress" in run.failure_message
    assert run.attention == Attention.OVERDUE
    assert sandbox.count_runs(client_ref=str(run.pk)) == 1


def test_success_runflow_reports_after_the_hard_limit_is_recorded_once_as_paid_not_billed(
    tenant: Any, sandbox: SandboxServer, eager: None
) -> None:
    run = submitted_reporting(sandbox, tenant, UNKNOWN_STATUS)
    failed_at = hard_limit_passed(run)
    reconcile_runs(now=failed_at)
    sandbox.faults.set_for(str(run.pk), drop_callbacks=True)  # Runflow finishes it after all
    upstream = sandbox.wait_for(str(run.provider_run_id), "succeeded")

    first = reconcile_runs(now=failed_at + timedelta(hours=1))
    again = reconcile_runs(now=failed_at + timedelta(hours=3))

    assert (first.paid_not_billed, again.paid_not_billed) == (1, 0)
    discrepancy = RunDiscrepancy.objects.get(run=run)
    assert discrepancy.kind == RunDiscrepancy.Kind.PAID_NOT_BILLED
    assert discrepancy.provider_run_id == run.provider_run_id
    assert discrepancy.provider_status == "succeeded"
    assert str(discrepancy.cost) == upstream["cost"]
    assert discrepancy.resolved_at is None
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert run.failure_code == DEADLINE_EXCEEDED
    assert run.outputs == []


def test_success_after_the_hard_limit_announced_by_a_callback_is_recorded(
    tenant: Any, sandbox: SandboxServer, eager: None
) -> None:
    """The callback wakes a GET even though the run is terminal here: Runflow made it."""
    run = submitted_reporting(sandbox, tenant, UNKNOWN_STATUS)
    reconcile_runs(now=hard_limit_passed(run))
    sandbox.faults.clear(str(run.pk))  # finishes, and this time calls back

    deadline = time.monotonic() + 10
    while not RunDiscrepancy.objects.filter(run=run).exists():
        assert time.monotonic() < deadline, "the callback recorded no discrepancy"
        time.sleep(0.05)
    assert Run.objects.get(pk=run.pk).status == RunStatus.FAILED


def test_failure_runflow_reports_after_the_hard_limit_owes_nothing_and_ends_the_watch(
    tenant: Any, sandbox: SandboxServer, eager: None
) -> None:
    run = submitted_reporting(sandbox, tenant, UNKNOWN_STATUS)
    failed_at = hard_limit_passed(run)
    reconcile_runs(now=failed_at)
    sandbox.faults.set_for(str(run.pk), fail=True, drop_callbacks=True)
    sandbox.wait_for(str(run.provider_run_id), "failed")

    reconcile_runs(now=failed_at + timedelta(hours=1))

    run.refresh_from_db()
    assert run.attention == Attention.NONE
    assert not RunDiscrepancy.objects.filter(run=run).exists()


def test_refused_lookup_is_flagged_and_never_resubmitted(
    tenant: Any, sandbox: SandboxServer
) -> None:
    run = lost_create(tenant)
    sandbox.faults.set_global(list_errors=[422])

    reconcile_runs()

    run.refresh_from_db()
    assert run.attention == Attention.LOOKUP_REFUSED
    assert run.status == RunStatus.QUEUED
    assert sandbox.count_runs(client_ref=str(run.pk)) == 0

    # Runflow now answers "none": a refused run stays unsent, by the reconciler or a submit.
    reconcile_runs()
    run_submit(run.pk)
    Run.objects.filter(pk=run.pk).update(claimed_at=None)
    run_submit(run.pk)
    reconcile_runs(now=timezone.now() + timedelta(minutes=5))
    assert sandbox.count_runs(client_ref=str(run.pk)) == 0
    assert Run.objects.get(pk=run.pk).status == RunStatus.QUEUED


def test_refused_lookup_fails_lookup_refused_at_its_deadline(
    tenant: Any, sandbox: SandboxServer
) -> None:
    run = lost_create(tenant)
    sandbox.faults.set_global(list_errors=[422, 422])
    reconcile_runs()

    reconcile_runs(now=run.deadline_at + timedelta(seconds=1))

    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert run.failure_code == LOOKUP_REFUSED
    assert run.attention == Attention.LOOKUP_REFUSED
    assert sandbox.count_runs(client_ref=str(run.pk)) == 0


def test_run_failed_for_a_refused_lookup_that_runflow_made_is_paid_not_billed(
    tenant: Any, sandbox: SandboxServer
) -> None:
    """Found by client_ref once Runflow answers the list again, inside the watch window."""
    run = lost_create(tenant)
    with RunflowClient() as runflow:
        upstream = runflow.create_run(
            run_input=run.input, client_ref=str(run.pk), callback_url=None
        )
    # Refused: the first pass's lookup, then the failing pass's, then that pass's watch.
    sandbox.faults.set_global(list_errors=[422, 422, 422])
    reconcile_runs()
    reconcile_runs(now=run.deadline_at + timedelta(seconds=1))
    assert Run.objects.get(pk=run.pk).failure_code == LOOKUP_REFUSED
    assert not RunDiscrepancy.objects.exists()
    sandbox.wait_for(upstream.id, "succeeded")

    report = reconcile_runs(now=run.deadline_at + timedelta(hours=1))

    assert report.paid_not_billed == 1
    (discrepancy,) = RunDiscrepancy.objects.filter(run=run)
    assert discrepancy.provider_run_id == upstream.id
    assert Run.objects.get(pk=run.pk).status == RunStatus.FAILED


def test_refused_lookup_that_later_finds_the_run_attaches_it(
    tenant: Any, sandbox: SandboxServer
) -> None:
    run = lost_create(tenant)
    with RunflowClient() as runflow:
        upstream = runflow.create_run(
            run_input=run.input, client_ref=str(run.pk), callback_url=None
        )
    sandbox.faults.set_global(list_errors=[422])
    reconcile_runs()
    assert Run.objects.get(pk=run.pk).attention == Attention.LOOKUP_REFUSED

    reconcile_runs()

    run.refresh_from_db()
    assert run.provider_run_id == upstream.id
    assert run.attention == Attention.NONE
    assert sandbox.count_runs(client_ref=str(run.pk)) == 1


def test_refused_lookup_after_a_lost_create_answer_is_never_resubmitted(
    tenant: Any, sandbox: SandboxServer, settings: Any
) -> None:
    """The submit's own lookup is refused: the run Runflow made is not made twice."""
    settings.SEEDANCE = {**settings.SEEDANCE, "RUNFLOW_TIMEOUT": 0.5}
    run = make_run(tenant, resolution="480p", duration="4")
    sandbox.faults.set_for(str(run.pk), lose_create_answer="drop", drop_callbacks=True)
    sandbox.faults.set_global(list_errors=[422])
    run_submit(run.pk, client=no_sleep())
    assert Run.objects.get(pk=run.pk).attention == Attention.LOOKUP_REFUSED

    sandbox.faults.set_global(list_errors=[422] * 3)
    stale = timezone.now() + timedelta(seconds=submit_worst_case_seconds() + 1)
    reconcile_runs(now=stale)
    reconcile_runs(now=run.deadline_at + timedelta(seconds=1))

    run.refresh_from_db()
    assert sandbox.count_runs(client_ref=str(run.pk)) == 1
    assert run.status == RunStatus.FAILED
    assert run.failure_code == LOOKUP_REFUSED


def test_lookups_failing_transiently_are_flagged_then_failed_at_the_hard_limit(
    tenant: Any, sandbox: SandboxServer
) -> None:
    """No answer is not "none": never resubmitted, flagged past the deadline, failed at the
    hard limit (a later success there is paid, not billed)."""
    run = lost_create(tenant)
    sandbox.faults.set_global(list_errors=[503] * 100)

    reconcile_runs(client=no_sleep())
    assert Run.objects.get(pk=run.pk).attention == Attention.NONE
    reconcile_runs(now=run.deadline_at + timedelta(seconds=1), client=no_sleep())
    flagged = Run.objects.get(pk=run.pk)
    reconcile_runs(now=hard_limit_passed(run), client=no_sleep())

    assert (flagged.status, flagged.attention) == (RunStatus.QUEUED, Attention.OVERDUE)
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert run.failure_code == DEADLINE_EXCEEDED
    assert "could not be asked" in run.failure_message
    assert sandbox.count_runs(client_ref=str(run.pk)) == 0


def test_run_got_by_get_errors_past_the_deadline_is_flagged_not_failed(
    tenant: Any, sandbox: SandboxServer, eager: None
) -> None:
    run = submitted_reporting(sandbox, tenant, "running")
    sandbox.faults.set_for(str(run.provider_run_id), get_errors=[503] * 20, running_seconds=600)
    reconcile_runs(now=run.deadline_at + timedelta(seconds=1), client=no_sleep())
    run.refresh_from_db()
    assert run.status in RunStatus.in_progress()
    assert run.attention == Attention.OVERDUE
