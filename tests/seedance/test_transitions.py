"""The one terminal transition: once, atomically, never out of a terminal status."""

import threading
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from seedance.delivery import next_attempt_at
from seedance.models import Run
from seedance.outcomes import Outcome
from seedance.signals import run_delivered, run_finished, run_undeliverable
from seedance.states import TRANSITIONS, Delivery, RunStatus
from seedance.transitions import (
    run_claim_delivery_attempt,
    run_finish,
    run_mark_delivered,
    run_mark_running,
    run_mark_undeliverable,
)
from tests.factories import deliver, finish_successfully, make_run, store_copies

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


# --- delivery: pending → delivered or unavailable, once --------------------------------


@pytest.fixture
def delivery_signals() -> Any:
    received: list[tuple[str, Run]] = []

    def delivered(sender: Any, run: Run, **kwargs: Any) -> None:
        received.append(("delivered", run))

    def undeliverable(sender: Any, run: Run, **kwargs: Any) -> None:
        received.append(("undeliverable", run))

    run_delivered.connect(delivered, dispatch_uid="test-delivered")
    run_undeliverable.connect(undeliverable, dispatch_uid="test-undeliverable")
    yield received
    run_delivered.disconnect(dispatch_uid="test-delivered")
    run_undeliverable.disconnect(dispatch_uid="test-undeliverable")


def test_a_run_is_delivered_once_and_never_undeliverable_after(
    tenant: Any, delivery_signals: list[tuple[str, Run]]
) -> None:
    run = deliver(finish_successfully(make_run(tenant), delivered=False))

    assert run_mark_delivered(run.pk) is False
    assert run_mark_undeliverable(run.pk, reason="late") is False
    run.refresh_from_db()
    assert run.delivery == Delivery.DELIVERED
    assert run.delivery_error == ""
    assert [kind for kind, _ in delivery_signals] == ["delivered"]
    assert delivery_signals[0][1].delivery == Delivery.DELIVERED


def test_an_undeliverable_run_is_never_delivered_later_and_keeps_its_status(
    tenant: Any, delivery_signals: list[tuple[str, Run]]
) -> None:
    run = finish_successfully(make_run(tenant), delivered=False)

    assert run_mark_undeliverable(run.pk, reason="output 0: the source answered HTTP 404")
    assert run_mark_undeliverable(run.pk, reason="again") is False
    deliver_attempt = run_claim_delivery_attempt(run.pk, now=timezone.now())

    run.refresh_from_db()
    assert deliver_attempt is None
    assert run.status == RunStatus.SUCCEEDED
    assert run.delivery == Delivery.UNAVAILABLE
    assert run.delivery_error == "output 0: the source answered HTTP 404"
    assert [kind for kind, _ in delivery_signals] == ["undeliverable"]


def test_delivered_needs_a_copy_of_every_output(tenant: Any) -> None:
    run = finish_successfully(make_run(tenant), delivered=False)
    assert run_mark_delivered(run.pk) is False
    assert Run.objects.get(pk=run.pk).delivery == Delivery.PENDING


@pytest.mark.parametrize("status", [RunStatus.QUEUED, RunStatus.FAILED, RunStatus.CANCELED])
def test_only_a_succeeded_run_has_a_delivery_to_record(tenant: Any, status: str) -> None:
    run = make_run(tenant)
    Run.objects.filter(pk=run.pk).update(status=status)
    assert run_mark_delivered(run.pk) is False
    assert run_mark_undeliverable(run.pk, reason="x") is False
    assert Run.objects.get(pk=run.pk).delivery == Delivery.PENDING


def test_a_failing_delivery_receiver_rolls_the_delivery_back(tenant: Any) -> None:
    run = finish_successfully(make_run(tenant), delivered=False)

    def explode(sender: Any, run: Run, **kwargs: Any) -> None:
        raise RuntimeError("ledger write failed")

    run_undeliverable.connect(explode, dispatch_uid="explode-delivery")
    try:
        with pytest.raises(RuntimeError):
            run_mark_undeliverable(run.pk, reason="x")
    finally:
        run_undeliverable.disconnect(dispatch_uid="explode-delivery")
    assert Run.objects.get(pk=run.pk).delivery == Delivery.PENDING


def test_a_copy_attempt_is_claimed_once_and_books_the_next(tenant: Any) -> None:
    run = finish_successfully(make_run(tenant), delivered=False)
    now = timezone.now()

    assert run_claim_delivery_attempt(run.pk, now=now) == 1
    assert run_claim_delivery_attempt(run.pk, now=now) is None

    run.refresh_from_db()
    assert run.next_delivery_at == next_attempt_at(1, now)
    assert run_claim_delivery_attempt(run.pk, now=run.next_delivery_at) == 2


@pytest.mark.django_db(transaction=True)
def test_racing_delivery_outcomes_leave_exactly_one(
    tenant: Any, delivery_signals: list[tuple[str, Run]]
) -> None:
    """Delivered and undeliverable race on one run (a late copy, a give-up): one wins."""
    if connection.vendor == "sqlite":
        pytest.skip("SQLite serializes writers; the race needs PostgreSQL's row locks")
    run = deliver_ready(tenant)
    barrier = threading.Barrier(10)

    def settle(index: int) -> None:
        barrier.wait()
        try:
            if index % 2:
                run_mark_delivered(run.pk)
            else:
                run_mark_undeliverable(run.pk, reason="gave up")
        finally:
            connection.close()

    threads = [threading.Thread(target=settle, args=(i,)) for i in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(delivery_signals) == 1
    run.refresh_from_db()
    assert (
        run.delivery
        == {"delivered": Delivery.DELIVERED, "undeliverable": Delivery.UNAVAILABLE}[
            delivery_signals[0][0]
        ]
    )


def deliver_ready(tenant: Any) -> Run:
    """A succeeded run whose copy is stored, its delivery not yet recorded."""
    run = finish_successfully(make_run(tenant), delivered=False)
    store_copies(run)
    return run
