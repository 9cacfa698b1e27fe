"""The reconciler: whatever was lost, every run reaches its right terminal state, and a
run is created upstream at most once."""

import time
from datetime import timedelta
from typing import Any

import pytest
from django.db.models import Q
from django.utils import timezone

from seedance.conf import create_outcome_window_seconds
from seedance.models import Run
from seedance.outcomes import DEADLINE_EXCEEDED
from seedance.runflow.client import RunflowClient
from seedance.sandbox import SandboxServer
from seedance.services.reconcile import ReconcileReport, reconcile_lost_creates, reconcile_runs
from seedance.services.submission import run_submit
from seedance.states import RunStatus
from tests.factories import make_run
from tests.seedance.conftest import wait_for_run

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def eager(settings: Any) -> None:
    """Reconcile anything at once, instead of after the production grace periods."""
    settings.SEEDANCE = {
        **settings.SEEDANCE,
        "RECONCILE_QUEUED_AFTER_SECONDS": 0,
        "RECONCILE_POLL_AFTER_SECONDS": 0,
    }


def reconcile_until_settled(runs: list[Run], rounds: int = 40) -> None:
    for _ in range(rounds):
        reconcile_runs()
        if all(Run.objects.get(pk=run.pk).is_terminal for run in runs):
            return
        time.sleep(0.05)
    raise AssertionError("runs did not settle")


def test_with_every_callback_dropped_runs_still_reach_their_right_terminal_state(
    tenant: Any, sandbox: SandboxServer, eager: None
) -> None:
    sandbox.faults.set_global(drop_callbacks=True)
    plain = [make_run(tenant, resolution="480p", duration="4") for _ in range(3)]
    failing = make_run(tenant, resolution="480p", duration="4")
    flagged = make_run(tenant, resolution="480p", duration="4")
    unchecked = make_run(tenant, resolution="480p", duration="4")
    sandbox.faults.set_for(str(failing.pk), fail=True)
    sandbox.faults.set_for(str(flagged.pk), nsfw=True)
    sandbox.faults.set_for(str(unchecked.pk), nsfw=None)
    runs = [*plain, failing, flagged, unchecked]
    for run in runs:
        run_submit(run.pk)
    for run in runs:
        run.refresh_from_db()
        sandbox.wait_for(str(run.provider_run_id))
    assert not any(Run.objects.get(pk=run.pk).is_terminal for run in runs)

    reconcile_until_settled(runs)

    for run in runs:
        run.refresh_from_db()
    assert [run.status for run in plain] == [RunStatus.SUCCEEDED] * 3
    assert failing.status == RunStatus.FAILED
    assert failing.failure_code == "GENERATION_FAILED"
    assert flagged.status == RunStatus.SUCCEEDED
    assert flagged.nsfw_detected is True
    assert unchecked.nsfw_detected is None
    assert all(run.cost is not None for run in plain)
    assert sandbox.callback_log == [] or all(
        entry["run_id"] not in {r.provider_run_id for r in runs} for entry in sandbox.callback_log
    )


def test_lost_submit_task_is_submitted_by_the_reconciler(
    tenant: Any, sandbox: SandboxServer, eager: None
) -> None:
    run = make_run(tenant, resolution="480p", duration="4")
    report = reconcile_runs()
    assert report.submitted == 1
    assert sandbox.count_runs(client_ref=str(run.pk)) == 1


def test_run_within_its_grace_period_is_left_to_its_submit_task(
    tenant: Any, sandbox: SandboxServer
) -> None:
    run = make_run(tenant)
    assert reconcile_runs().submitted == 0
    assert sandbox.count_runs(client_ref=str(run.pk)) == 0


def test_worker_crash_before_the_create_is_resubmitted_once_the_claims_window_is_over(
    tenant: Any, sandbox: SandboxServer
) -> None:
    claimed_at = timezone.now() - timedelta(seconds=create_outcome_window_seconds() + 1)
    run = make_run(tenant, claimed_at=claimed_at, submit_attempts=1)
    reconcile_runs()
    run.refresh_from_db()
    assert run.provider_run_id is not None
    assert run.submit_attempts == 2
    assert sandbox.count_runs(client_ref=str(run.pk)) == 1


def test_claimed_run_is_not_resubmitted_within_the_claims_window(
    tenant: Any, sandbox: SandboxServer
) -> None:
    run = make_run(tenant, claimed_at=timezone.now() - timedelta(seconds=5), submit_attempts=1)
    reconcile_runs()
    assert sandbox.count_runs(client_ref=str(run.pk)) == 0


def test_lost_create_answer_is_attached_never_resent(tenant: Any, sandbox: SandboxServer) -> None:
    """The create reached Runflow, the answer (and the worker) were lost: one run upstream."""
    claimed_at = timezone.now() - timedelta(seconds=create_outcome_window_seconds() + 1)
    run = make_run(tenant, claimed_at=claimed_at, submit_attempts=1)
    with RunflowClient() as runflow:
        upstream = runflow.create_run(
            run_input=run.input, client_ref=str(run.pk), callback_url=None
        )
    report = reconcile_runs()
    run.refresh_from_db()
    assert report.attached == 1
    assert run.provider_run_id == upstream.id
    assert sandbox.count_runs(client_ref=str(run.pk)) == 1


def test_lost_create_answers_everywhere_leave_one_upstream_run_per_run(
    tenant: Any, sandbox: SandboxServer, settings: Any, eager: None
) -> None:
    settings.SEEDANCE = {**settings.SEEDANCE, "RUNFLOW_TIMEOUT": 0.5}
    sandbox.faults.set_global(lose_create_answer="drop")
    runs = [make_run(tenant, resolution="480p", duration="4") for _ in range(4)]
    for run in runs:
        run_submit(run.pk, client=RunflowClient(sleep=lambda seconds: None))
    sandbox.faults.clear()
    reconcile_until_settled(runs)
    for run in runs:
        assert sandbox.count_runs(client_ref=str(run.pk)) == 1
        assert Run.objects.get(pk=run.pk).status == RunStatus.SUCCEEDED


def test_unsubmitted_run_past_its_deadline_fails_with_a_clear_code(
    tenant: Any, sandbox: SandboxServer
) -> None:
    run = make_run(tenant, deadline_at=timezone.now() - timedelta(seconds=1))
    assert reconcile_runs().expired == 1
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert run.failure_code == DEADLINE_EXCEEDED
    assert sandbox.count_runs(client_ref=str(run.pk)) == 0


def test_claimed_run_past_its_deadline_with_no_record_upstream_fails(
    tenant: Any, sandbox: SandboxServer
) -> None:
    claimed_at = timezone.now() - timedelta(seconds=create_outcome_window_seconds() + 1)
    run = make_run(
        tenant,
        claimed_at=claimed_at,
        submit_attempts=1,
        deadline_at=timezone.now() - timedelta(seconds=1),
    )
    reconcile_runs()
    run.refresh_from_db()
    assert run.failure_code == DEADLINE_EXCEEDED
    assert sandbox.count_runs(client_ref=str(run.pk)) == 0


def test_run_runflow_is_still_working_on_is_never_discarded_at_its_deadline(
    tenant: Any, sandbox: SandboxServer, eager: None
) -> None:
    run = make_run(tenant, resolution="480p", duration="4")
    sandbox.faults.set_for(str(run.pk), running_seconds=60, drop_callbacks=True)
    run_submit(run.pk)
    Run.objects.filter(pk=run.pk).update(deadline_at=timezone.now() - timedelta(seconds=1))
    reconcile_runs()
    reconcile_runs()
    run.refresh_from_db()
    assert run.status in RunStatus.in_progress()
    assert run.failure_code == ""


def test_many_lost_tasks_are_all_submitted_in_one_pass(
    tenant: Any, sandbox: SandboxServer, eager: None
) -> None:
    """The pass shares one client: submitting the first run must not close it."""
    runs = [make_run(tenant, resolution="480p", duration="4") for _ in range(3)]
    report = reconcile_runs()
    assert report.submitted == 3
    assert report.errors == 0
    assert all(sandbox.count_runs(client_ref=str(run.pk)) == 1 for run in runs)


def test_two_reconcilers_taking_over_one_stale_claim_send_one_create(
    tenant: Any, sandbox: SandboxServer
) -> None:
    from seedance.services.reconcile import _settle_lost_create

    claimed_at = timezone.now() - timedelta(seconds=create_outcome_window_seconds() + 1)
    run = make_run(tenant, claimed_at=claimed_at, submit_attempts=1)
    first_view, second_view = Run.objects.get(pk=run.pk), Run.objects.get(pk=run.pk)
    report = ReconcileReport()
    with RunflowClient() as runflow:
        _settle_lost_create(first_view, timezone.now(), runflow, report)
        _settle_lost_create(second_view, timezone.now(), runflow, report)
    assert sandbox.count_runs(client_ref=str(run.pk)) == 1
    assert Run.objects.get(pk=run.pk).submit_attempts == 2


def test_the_outcome_window_runs_from_the_last_create_attempt_not_from_the_claim(
    tenant: Any, sandbox: SandboxServer
) -> None:
    """Claimed long ago, but a retry went out recently: that attempt may still make a run."""
    window = create_outcome_window_seconds()
    now = timezone.now()
    run = make_run(
        tenant,
        claimed_at=now - timedelta(seconds=window * 4),
        create_sent_at=now - timedelta(seconds=window - 5),
        submit_attempts=1,
    )
    assert reconcile_lost_creates(now=now).submitted == 0
    assert sandbox.count_runs(client_ref=str(run.pk)) == 0

    later = now + timedelta(seconds=6)
    assert reconcile_lost_creates(now=later).submitted == 1
    run.refresh_from_db()
    assert run.provider_run_id is not None
    assert sandbox.count_runs(client_ref=str(run.pk)) == 1


def test_a_lost_answer_whose_first_lookup_failed_is_attached_at_the_sweeps_cadence(
    tenant: Any, sandbox: SandboxServer, settings: Any
) -> None:
    """The create made a run, its answer was lost and so was the lookup right after: the
    next lookup, seconds after the window, attaches Runflow's run and sends nothing."""
    settings.SEEDANCE = {**settings.SEEDANCE, "RUNFLOW_MAX_ATTEMPTS": 1}
    sandbox.faults.set_global(lose_create_answer="drop", list_errors=[503])
    run = make_run(tenant, resolution="480p", duration="4")
    run_submit(run.pk)
    run.refresh_from_db()
    assert run.provider_run_id is None
    assert run.create_sent_at is not None
    sandbox.faults.clear()

    assert reconcile_lost_creates().attached == 0  # still within the window
    window_over = run.create_sent_at + timedelta(seconds=create_outcome_window_seconds() + 1)
    report = reconcile_lost_creates(now=window_over)

    assert (report.attached, report.submitted) == (1, 0)
    assert sandbox.count_runs(client_ref=str(run.pk)) == 1
    assert wait_for_run(run).status == RunStatus.SUCCEEDED


def test_a_run_runflow_makes_only_after_the_lost_answer_is_attached_not_sent_again(
    tenant: Any, sandbox: SandboxServer
) -> None:
    """Runflow's "the run may exist", arriving late: the lookup right after the lost answer
    finds nothing, the one after the outcome window finds the run, and nothing is resent."""
    run = make_run(tenant, resolution="480p", duration="4")
    sandbox.faults.set_for(
        str(run.pk),
        lose_create_answer="drop",
        lose_create_materialize_seconds=0.5,
        drop_callbacks=True,  # its callback would attach it first
    )
    run_submit(run.pk)
    run.refresh_from_db()
    assert (run.provider_run_id, sandbox.count_runs(client_ref=str(run.pk))) == (None, 0)
    time.sleep(1)  # Runflow finishes the request meanwhile; the sandbox's ticker makes it

    assert run.create_sent_at is not None
    window_over = run.create_sent_at + timedelta(seconds=create_outcome_window_seconds() + 1)
    report = reconcile_lost_creates(now=window_over)

    assert (report.attached, report.submitted) == (1, 0)
    assert sandbox.count_runs(client_ref=str(run.pk)) == 1


def test_a_create_runflow_never_acted_on_is_sent_once_more_after_the_window(
    tenant: Any, sandbox: SandboxServer
) -> None:
    sandbox.faults.set_global(
        lose_create_answer="500", lose_create_makes_run=False, lose_create_times=1
    )
    run = make_run(tenant, resolution="480p", duration="4")
    run_submit(run.pk)
    run.refresh_from_db()
    assert run.create_sent_at is not None

    assert reconcile_lost_creates().submitted == 0  # still within the window
    window_over = run.create_sent_at + timedelta(seconds=create_outcome_window_seconds() + 1)
    assert reconcile_lost_creates(now=window_over).submitted == 1
    assert reconcile_lost_creates(now=window_over).submitted == 0

    run.refresh_from_db()
    assert (run.provider_run_id is not None, run.submit_attempts) == (True, 2)
    assert sandbox.count_runs(client_ref=str(run.pk)) == 1


def test_deadline_never_fails_a_run_that_got_its_provider_id_meanwhile(
    tenant: Any, sandbox: SandboxServer
) -> None:
    from seedance.services.reconcile import _expire

    run = make_run(tenant, deadline_at=timezone.now() - timedelta(seconds=1))
    stale_view = Run.objects.get(pk=run.pk)
    Run.objects.filter(pk=run.pk).update(provider_run_id="upstream-1", claimed_at=timezone.now())
    report = ReconcileReport()
    _expire(stale_view, only_if=Q(provider_run_id__isnull=True), report=report)
    run.refresh_from_db()
    assert run.status == RunStatus.QUEUED
    assert report.expired == 0


def test_one_troubled_run_never_stops_the_pass(
    tenant: Any, sandbox: SandboxServer, eager: None
) -> None:
    sandbox.faults.set_global(drop_callbacks=True)
    troubled = make_run(tenant, resolution="480p", duration="4")
    fine = make_run(tenant, resolution="480p", duration="4")
    run_submit(troubled.pk)
    run_submit(fine.pk)
    sandbox.faults.set_for(str(troubled.pk), get_errors=[500] * 10)
    fine.refresh_from_db()
    sandbox.wait_for(str(fine.provider_run_id))
    report = reconcile_runs(client=RunflowClient(sleep=lambda seconds: None))
    assert report.errors == 1
    assert Run.objects.get(pk=fine.pk).is_terminal
    assert not Run.objects.get(pk=troubled.pk).is_terminal


def test_failure_reason_missing_from_the_callback_comes_from_runflows_get_at_once(
    tenant: Any, sandbox: SandboxServer, eager: None
) -> None:
    """The callback carries no reason; the GET it wakes does, and the reconciler keeps it."""
    run = make_run(tenant, resolution="480p", duration="4")
    sandbox.faults.set_for(str(run.pk), fail=True, failure_code="CONTENT_POLICY")
    run_submit(run.pk)
    run.refresh_from_db()
    sandbox.wait_for(str(run.provider_run_id))
    assert wait_for_run(run).failure_code == "CONTENT_POLICY"
    reconcile_runs()
    run.refresh_from_db()
    assert run.failure_code == "CONTENT_POLICY"
    assert run.status == RunStatus.FAILED
