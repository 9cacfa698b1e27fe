"""The only writers of a run's status, its claim, its attention flag and its delivery.

A submission claims the run with a conditional UPDATE (once, even twice at once), gives
the claim back when Runflow surely made nothing, or attaches Runflow's run id.
``run_finish`` is the one terminal transition. It holds on every database: the row is
locked where the database can lock rows, and the UPDATE itself is conditional on the run
still being in a status that may move, so two racing finishers leave exactly one winner.
A succeeded run's delivery moves once too, pending to delivered or to unavailable, by the
same rule; the status itself never changes again.
"""

import logging
from datetime import datetime
from functools import partial
from typing import Any
from uuid import UUID

from django.db import IntegrityError, transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from seedance import queue
from seedance.delivery import next_attempt_at
from seedance.models import OutputFile, Run, Tenant
from seedance.moderation import moderation_for
from seedance.outcomes import TENANT_SUSPENDED, Outcome
from seedance.runflow.payloads import ProviderRun
from seedance.signals import run_delivered, run_finished, run_undeliverable
from seedance.states import Attention, Delivery, RunStatus, sources_of

logger = logging.getLogger(__name__)


def run_claim(
    run_id: UUID | str, *, stale_claim: datetime | None = None, upstream_checked: bool = False
) -> Run | None:
    """Take the run for submission; None if it is not ours to take.

    Without ``stale_claim`` only an unclaimed run is taken; with it, only a run still
    holding exactly that claim (the reconciler taking over a submit that went silent).
    A suspended tenant's run is never taken: it is canceled if it was never sent, or if
    the caller looked it up by client_ref and Runflow has none (``upstream_checked``).
    """
    # A run whose lookup Runflow refused is never sent again: it may exist upstream.
    waiting = Q(status=RunStatus.QUEUED, provider_run_id__isnull=True) & ~Q(
        attention=Attention.LOOKUP_REFUSED
    )
    waiting &= Q(claimed_at__isnull=True) if stale_claim is None else Q(claimed_at=stale_claim)
    with transaction.atomic():
        if _tenant_suspended_locked(run_id):
            never_sent = Q() if upstream_checked else Q(submit_attempts=0)
            run_cancel_for_suspension(run_id, only_if=waiting & never_sent)
            return None
        claimed = Run.objects.filter(waiting, pk=run_id).update(
            claimed_at=timezone.now(),
            create_sent_at=None,
            submit_attempts=F("submit_attempts") + 1,
        )
    return Run.objects.get(pk=run_id) if claimed else None


def run_note_create_sent(run_id: UUID | str, *, claimed_at: datetime | None) -> bool:
    """Note that a create is about to go out under this claim; False when the claim was
    taken over (or the run got its provider id): nothing may be sent then."""
    return (
        Run.objects.filter(
            pk=run_id,
            status=RunStatus.QUEUED,
            provider_run_id__isnull=True,
            claimed_at=claimed_at,
        ).update(create_sent_at=timezone.now())
        == 1
    )


def run_release_claim(run: Run) -> None:
    """Give the run back to the reconciler: Runflow surely has no run for it."""
    Run.objects.filter(pk=run.pk, provider_run_id__isnull=True, claimed_at=run.claimed_at).update(
        claimed_at=None
    )


def run_attach_provider(run_id: UUID | str, provider_run: ProviderRun) -> bool:
    """Record Runflow's id for our run, then apply whatever state it reported.

    False when the run already carries another provider id (or the id belongs to another
    run): that provider run is not ours to apply.
    """
    try:
        with transaction.atomic():
            Run.objects.filter(
                pk=run_id, provider_run_id__isnull=True, status__in=RunStatus.in_progress()
            ).update(
                provider_run_id=provider_run.id,
                submitted_at=provider_run.created_at or timezone.now(),
                claimed_at=Coalesce(F("claimed_at"), Value(timezone.now())),
                attention=Attention.NONE,
                attention_since=None,
            )
    except IntegrityError:
        logger.error("Runflow run %s is already attached to another run", provider_run.id)
        return False
    if not Run.objects.filter(pk=run_id, provider_run_id=provider_run.id).exists():
        logger.error("Run %s is not waiting for provider run %s", run_id, provider_run.id)
        return False
    run_apply_provider(run_id, provider_run)
    return True


def run_flag(run_id: UUID | str, attention: str, *, now: datetime) -> bool:
    """Flag an in-progress run for a person; True when the flag changed. A refused lookup
    outranks overdue (it stops resubmission) and is never lowered to it."""
    return (
        Run.objects.filter(pk=run_id, status__in=RunStatus.in_progress())
        .exclude(attention__in={attention, Attention.LOOKUP_REFUSED})
        .update(attention=attention, attention_since=now)
        == 1
    )


def run_cancel_for_suspension(run_id: UUID | str, *, only_if: Q) -> Run | None:
    """The one terminal transition, for a run its tenant's suspension stopped before it was
    sent: canceled, its reservation released, never billed."""
    return run_finish(
        run_id,
        Outcome(
            status=RunStatus.CANCELED,
            failure_code=TENANT_SUSPENDED,
            failure_message="Canceled before submission: the tenant is suspended.",
        ),
        only_if=only_if,
    )


def _tenant_suspended_locked(run_id: UUID | str) -> bool:
    """The run's tenant's suspension, read under the tenant row's lock (FOR NO KEY UPDATE:
    it waits for a suspension being written; a run's insert never waits for it)."""
    suspended_at = (
        Tenant.objects.select_for_update(no_key=True, of=("self",))
        .filter(runs__pk=run_id)
        .values_list("suspended_at", flat=True)
        .first()
    )
    return suspended_at is not None


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
            "attention": outcome.attention,
            "attention_since": Coalesce(F("attention_since"), Value(now))
            if outcome.attention
            else None,
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
