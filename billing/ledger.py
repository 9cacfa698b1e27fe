"""Settling a run's charge and writing its usage row, inside its terminal transition.

Billed means delivered: the row is written when the run succeeds (the ledger is the
truth) but waits for our copy of the video; delivery makes it pushable, a copy that
failed for good voids it. Reviews and delivery may come in either order.
"""

import logging
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from billing.models import RunCharge, UsageRecord
from billing.naming import meter_identifier
from billing.periods import period_of
from billing.pricing import amount_for, billed_seconds, unit_price
from seedance.models import Run
from seedance.moderation import rejected_runs_billed
from seedance.states import Delivery, RunStatus

logger = logging.getLogger(__name__)


def usage_record_for_run(run: Run) -> UsageRecord | None:
    """Settle the run's reservation; for a succeeded run, write its one usage row.

    Idempotent: a second call finds the row (the unique run constraint decides races).
    """
    charge = _charge_for(run)
    if run.status != RunStatus.SUCCEEDED:
        RunCharge.objects.filter(pk=charge.pk).update(
            state=RunCharge.State.RELEASED, amount=0, settled_at=timezone.now()
        )
        return None
    seconds = billed_seconds(run)
    amount = amount_for(seconds, charge.unit_price)
    RunCharge.objects.filter(pk=charge.pk).update(
        state=RunCharge.State.SETTLED,
        amount=amount,
        settled_at=timezone.now(),
        # Caps count a settled run in the period its meter event bills it in.
        period=period_of(_completed_at(run)),
    )
    existing = UsageRecord.objects.filter(run=run).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return UsageRecord.objects.create(
                run=run,
                tenant_id=run.tenant_id,
                end_user_id=run.end_user_id,
                resolution=run.resolution,
                seconds=seconds,
                unit_price=charge.unit_price,
                amount=amount,
                provider_cost=run.cost,
                completed_at=_completed_at(run),
                event_timestamp=_completed_at(run),
                identifier=meter_identifier(run.pk),
                next_push_at=timezone.now(),
                push_state=_push_state_for(run),
            )
    except IntegrityError:
        return UsageRecord.objects.get(run=run)


def _push_state_for(run: Run) -> str:
    """Where a run's row stands: waiting for our copy, then for a review that decides
    whether it is billed (when rejected videos are not), then pushable."""
    if run.delivery == Delivery.UNAVAILABLE:
        return UsageRecord.PushState.VOIDED
    if run.delivery != Delivery.DELIVERED:
        return UsageRecord.PushState.AWAITING_DELIVERY
    if not rejected_runs_billed():
        if run.moderation == Run.Moderation.PENDING:
            return UsageRecord.PushState.WAITING
        if run.moderation == Run.Moderation.REJECTED:
            return UsageRecord.PushState.VOIDED
    return UsageRecord.PushState.PENDING


def usage_record_after_delivery(run: Run) -> UsageRecord | None:
    """The run's copy is fetchable (or failed for good): its waiting row moves on, to
    pushable, to waiting for review, or to voided. Returns the row if it is now pending."""
    target = _push_state_for(run)
    if target == UsageRecord.PushState.VOIDED:
        _void(run, UsageRecord.PushState.AWAITING_DELIVERY)
        return None
    UsageRecord.objects.filter(run=run, push_state=UsageRecord.PushState.AWAITING_DELIVERY).update(
        push_state=target, next_push_at=timezone.now()
    )
    return UsageRecord.objects.filter(run=run, push_state=UsageRecord.PushState.PENDING).first()


def usage_record_after_review(run: Run, decision: str) -> None:
    """Approved: the waiting row goes out. Rejected and not billed: it is voided, whether
    it waited for the review or still for our copy."""
    waiting = UsageRecord.objects.filter(run=run, push_state=UsageRecord.PushState.WAITING)
    if decision == Run.Moderation.APPROVED:
        waiting.update(push_state=UsageRecord.PushState.PENDING, next_push_at=timezone.now())
    elif not rejected_runs_billed():
        _void(run, UsageRecord.PushState.WAITING, UsageRecord.PushState.AWAITING_DELIVERY)


def _void(run: Run, *states: str) -> None:
    """Never pushed: the row is voided and the run's charge released."""
    if UsageRecord.objects.filter(run=run, push_state__in=states).update(
        push_state=UsageRecord.PushState.VOIDED
    ):
        RunCharge.objects.filter(run=run).update(
            amount=0, state=RunCharge.State.RELEASED, settled_at=timezone.now()
        )


def _charge_for(run: Run) -> RunCharge:
    """The run's reservation; a run admitted without billing gets one priced now."""
    charge = RunCharge.objects.filter(run=run).first()
    if charge is not None:
        return charge
    logger.warning("Run %s has no reservation; pricing it at today's price", run.pk)
    charge, _ = RunCharge.objects.get_or_create(
        run=run,
        defaults={
            "tenant_id": run.tenant_id,
            "end_user_id": run.end_user_id,
            "resolution": run.resolution,
            "unit_price": unit_price(tenant=run.tenant, resolution=run.resolution),
            "amount": 0,
            "period": period_of(run.created_at),
        },
    )
    return charge


def _completed_at(run: Run) -> datetime:
    return run.completed_at or timezone.now()
