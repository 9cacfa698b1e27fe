"""The one terminal transition: once, atomically, never out of a terminal status."""

import threading
from typing import Any

import pytest
from django.db import connection

from seedance.models import Run
from seedance.signals import run_finished
from seedance.states import TRANSITIONS, RunStatus
from seedance.transitions import Outcome, run_finish, run_mark_running
from tests.factories import make_run

SUCCEEDED = Outcome(status=RunStatus.SUCCEEDED, outputs=[{"url": "u"}], result_seed=7)
FAILED = Outcome(status=RunStatus.FAILED, failure_code="GENERATION_FAILED", failure_message="x")


@pytest.fixture
def finished_signals() -> Any:
    received: list[Run] = []

    def receiver(sender: Any, run: Run, **kwargs: Any) -> None:
        received.append(run)

    run_finished.connect(receiver, dispatch_uid="test-receiver")
    yield received
    run_finished.disconnect(dispatch_uid="test-receiver")


def test_terminal_statuses_have_no_way_out() -> None:
    for status in RunStatus.terminal():
        assert TRANSITIONS[status] == frozenset()


def test_terminal_run_never_changes_status(tenant: Any, finished_signals: list[Run]) -> None:
    run = make_run(tenant)
    assert run_finish(run.pk, SUCCEEDED) is not None
    assert run_finish(run.pk, FAILED) is None
    assert run_finish(run.pk, SUCCEEDED) is None
    assert run_mark_running(run.pk) is False
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED
    assert run.failure_code == ""
    assert run.result_seed == 7
    assert len(finished_signals) == 1


def test_finish_records_outcome_and_completion_time(tenant: Any) -> None:
    run = make_run(tenant)
    finished = run_finish(run.pk, FAILED)
    assert finished is not None
    assert finished.status == RunStatus.FAILED
    assert finished.failure_code == "GENERATION_FAILED"
    assert finished.completed_at is not None


def test_finish_refuses_a_non_terminal_status(tenant: Any) -> None:
    run = make_run(tenant)
    with pytest.raises(ValueError, match="not a terminal status"):
        run_finish(run.pk, Outcome(status=RunStatus.RUNNING))


def test_a_failing_receiver_rolls_the_transition_back(tenant: Any) -> None:
    run = make_run(tenant)

    def explode(sender: Any, run: Run, **kwargs: Any) -> None:
        raise RuntimeError("ledger write failed")

    run_finished.connect(explode, dispatch_uid="explode")
    try:
        with pytest.raises(RuntimeError):
            run_finish(run.pk, SUCCEEDED)
    finally:
        run_finished.disconnect(dispatch_uid="explode")
    run.refresh_from_db()
    assert run.status == RunStatus.QUEUED


def test_only_if_guard_blocks_the_transition(tenant: Any) -> None:
    from django.db.models import Q
    from django.utils import timezone

    run = make_run(tenant, claimed_at=timezone.now())
    assert run_finish(run.pk, FAILED, only_if=Q(claimed_at__isnull=True)) is None
    run.refresh_from_db()
    assert run.status == RunStatus.QUEUED


def test_mark_running_moves_only_a_queued_run(tenant: Any) -> None:
    run = make_run(tenant)
    assert run_mark_running(run.pk) is True
    assert run_mark_running(run.pk) is False
    run.refresh_from_db()
    assert run.status == RunStatus.RUNNING
    assert run.started_at is not None


@pytest.mark.django_db(transaction=True)
def test_racing_finishers_leave_exactly_one_winner(
    tenant: Any, finished_signals: list[Run]
) -> None:
    """Twelve threads finish the same run at once (succeeded vs failed): one wins."""
    if connection.vendor == "sqlite":
        pytest.skip("SQLite serializes writers; the race needs PostgreSQL's row locks")
    run = make_run(tenant)
    barrier = threading.Barrier(12)
    winners: list[Run] = []

    def finish(outcome: Outcome) -> None:
        barrier.wait()
        try:
            result = run_finish(run.pk, outcome)
            if result is not None:
                winners.append(result)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=finish, args=(SUCCEEDED if i % 2 else FAILED,)) for i in range(12)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(winners) == 1
    assert len(finished_signals) == 1
    run.refresh_from_db()
    assert run.status == winners[0].status
