"""The only writers of a run's status and of its delivery.

``run_finish`` is the one terminal transition. It holds on every database: the row is
locked where the database can lock rows, and the UPDATE itself is conditional on the run
still being in a status that may move, so two racing finishers leave exactly one winner.
A succeeded run's delivery moves once too, pending to delivered or to unavailable, by the
same rule; the status itself never changes again.
"""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import partial
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from seedance import queue
from seedance.delivery import next_attempt_at
from seedance.models import OutputFile, Run
from seedance.moderation import moderation_for
from seedance.runflow.payloads import ProviderRun
from seedance.signals import run_delivered, run_finished, run_undeliverable
from seedance.states import Delivery, RunStatus, sources_of

#: A failure Runflow gave no reason for; the reconciler asks again for one.
PROVIDER_FAILED = "provider_failed"
PROVIDER_CANCELED = "provider_canceled"
NO_OUTPUT = "no_output"


@dataclass(frozen=True)
class Outcome:
    """What a run ended with; built from Runflow's answer or by us (cancel, deadline)."""

    status: str
    outputs: list[dict[str, Any]] = field(default_factory=list)
    result_seed: int | None = None
    nsfw_detected: bool | None = None
    timing: dict[str, Any] | None = None
    duration_ms: int | None = None
    cost: Decimal | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    failure_code: str = ""
    failure_message: str = ""

    @classmethod
    def from_provider(cls, provider_run: ProviderRun) -> "Outcome":
        """Runflow's word, with two corrections: a "success" without a video is a failure
        (we bill what we deliver), and a failure always carries a code."""
        if provider_run.status == RunStatus.SUCCEEDED and not provider_run.outputs:
            return cls(
                status=RunStatus.FAILED,
                duration_ms=provider_run.duration_ms,
                cost=provider_run.cost,
                completed_at=provider_run.completed_at,
                failure_code=NO_OUTPUT,
                failure_message="Runflow reported success but returned no video.",
            )
        succeeded = provider_run.status == RunStatus.SUCCEEDED
        fallback = (
            PROVIDER_FAILED if provider_run.status == RunStatus.FAILED else "provider_canceled"
        )
        failure_code = "" if succeeded else provider_run.failure_code or fallback
        return cls(
            status=provider_run.status,
            outputs=[_output_entry(o) for o in provider_run.outputs] if succeeded else [],
            result_seed=provider_run.seed,
            nsfw_detected=provider_run.nsfw_detected,
            timing=provider_run.timing,
            duration_ms=provider_run.duration_ms,
            cost=provider_run.cost,
            started_at=provider_run.started_at,
            completed_at=provider_run.completed_at,
            failure_code=failure_code,
            failure_message=provider_run.failure_message if not succeeded else "",
        )


def run_finish(run_id: Any, outcome: Outcome, *, only_if: Q | None = None) -> Run | None:
    """Move a run to a terminal status once. Returns the run if this call finished it.

    ``only_if`` narrows which runs may finish (cancel: never claimed for submission).
    Receivers of ``run_finished`` run inside this transaction, so a ledger row commits or
    rolls back with the status it follows from.
    """
    if outcome.status not in RunStatus.terminal():
        raise ValueError(f"{outcome.status!r} is not a terminal status")
    with transaction.atomic():
        locked = Run.objects.select_for_update().filter(pk=run_id).first()
        if locked is None or locked.status not in sources_of(outcome.status):
            return None
        now = timezone.now()
        values: dict[str, Any] = {
            "status": outcome.status,
            "outputs": outcome.outputs,
            "result_seed": outcome.result_seed,
            "nsfw_detected": outcome.nsfw_detected,
            "timing": outcome.timing,
            "duration_ms": outcome.duration_ms,
            "cost": outcome.cost,
            "failure_code": outcome.failure_code,
            "failure_message": outcome.failure_message,
            "completed_at": outcome.completed_at or now,
            "recheck_at": None,
        }
        if outcome.started_at and locked.started_at is None:
            values["started_at"] = outcome.started_at
        succeeded = outcome.status == RunStatus.SUCCEEDED
        values["moderation"] = moderation_for(
            succeeded=succeeded, nsfw_detected=outcome.nsfw_detected
        )
        guard = Run.objects.filter(pk=run_id, status__in=sources_of(outcome.status))
        if only_if is not None:
            guard = guard.filter(only_if)
        if guard.update(**values) != 1:
            return None
        run = Run.objects.get(pk=run_id)
        run_finished.send(sender=Run, run=run)
        if succeeded:
            transaction.on_commit(partial(queue.enqueue_copy, run.pk), robust=True)
        return run


def run_mark_running(run_id: Any, *, started_at: datetime | None = None) -> bool:
    """queued → running; a no-op on a run that has moved on (late or duplicate news)."""
    updated = Run.objects.filter(pk=run_id, status=RunStatus.QUEUED).update(
        status=RunStatus.RUNNING, started_at=started_at or timezone.now()
    )
    return updated == 1


def run_apply_provider(run_id: Any, provider_run: ProviderRun) -> bool:
    """Apply what Runflow says about a run (callback or poll). True when anything moved."""
    if provider_run.is_terminal:
        return run_finish(run_id, Outcome.from_provider(provider_run)) is not None
    if provider_run.status == RunStatus.RUNNING:
        return run_mark_running(run_id, started_at=provider_run.started_at)
    return False


def run_claim_delivery_attempt(run_id: Any, *, now: datetime) -> int | None:
    """Start one more copy attempt of a run still being delivered, if one is due; books
    the next. Returns the attempt's number, or None when none is due (or another won)."""
    due = Q(next_delivery_at__isnull=True) | Q(next_delivery_at__lte=now)
    awaiting = Run.objects.filter(pk=run_id, status=RunStatus.SUCCEEDED, delivery=Delivery.PENDING)
    made = awaiting.filter(due).values_list("delivery_attempts", flat=True).first()
    if made is None:
        return None
    attempt = made + 1
    claimed = (
        awaiting.filter(due)
        .filter(delivery_attempts=made)
        .update(delivery_attempts=attempt, next_delivery_at=next_attempt_at(attempt, now))
    )
    return attempt if claimed == 1 else None


def run_mark_delivered(run_id: Any) -> bool:
    """pending → delivered, once every output has a fetchable copy of ours; True if this
    call moved it. Billing's receiver of ``run_delivered`` commits with it."""
    with transaction.atomic():
        run = _awaiting_delivery_locked(run_id)
        if run is None:
            return False
        copies = (
            OutputFile.objects.filter(run_id=run.pk, copied_at__isnull=False)
            .filter(deleted_at__isnull=True)
            .exclude(file="")
            .count()
        )
        if copies < len(run.outputs):
            return False
        moved = _move_delivery(run, Delivery.DELIVERED, delivered_at=timezone.now())
        if moved is not None:
            run_delivered.send(sender=Run, run=moved)
        return moved is not None


def run_mark_undeliverable(run_id: Any, *, reason: str) -> bool:
    """pending → unavailable: the copy failed for good. The status stays succeeded (a
    terminal run never changes); tenants are shown a failure and billing voids the row."""
    with transaction.atomic():
        run = _awaiting_delivery_locked(run_id)
        if run is None:
            return False
        moved = _move_delivery(run, Delivery.UNAVAILABLE, delivery_error=reason)
        if moved is not None:
            run_undeliverable.send(sender=Run, run=moved)
        return moved is not None


def _awaiting_delivery_locked(run_id: Any) -> Run | None:
    return (
        Run.objects.select_for_update()
        .filter(pk=run_id, status=RunStatus.SUCCEEDED, delivery=Delivery.PENDING)
        .first()
    )


def _move_delivery(run: Run, target: str, **values: Any) -> Run | None:
    updated = Run.objects.filter(
        pk=run.pk, status=RunStatus.SUCCEEDED, delivery=Delivery.PENDING
    ).update(delivery=target, next_delivery_at=None, **values)
    return Run.objects.get(pk=run.pk) if updated == 1 else None


_OUTPUT_FIELDS = ("url", "type", "width", "height", "duration")


def _output_entry(raw: dict[str, Any]) -> dict[str, Any]:
    """Keep what we show and store of an artifact; the provider's extras stay upstream."""
    entry = {name: raw.get(name) for name in _OUTPUT_FIELDS}
    if "has_audio" in raw:
        entry["has_audio"] = raw["has_audio"]
    return entry
