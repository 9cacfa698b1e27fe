"""Settling a run's charge and writing its usage row, inside its terminal transition."""

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
from seedance.states import RunStatus

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
        state=RunCharge.State.SETTLED, amount=amount, settled_at=timezone.now()
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
                push_state=_initial_push_state(run),
            )
    except IntegrityError:
        return UsageRecord.objects.get(run=run)


def _initial_push_state(run: Run) -> str:
    """A held video that would not be billed if rejected waits for its review."""
    if run.moderation == Run.Moderation.PENDING and not rejected_runs_billed():
        return UsageRecord.PushState.WAITING
    return UsageRecord.PushState.PENDING


def usage_record_after_review(run: Run, decision: str) -> None:
    """Approved: the waiting row goes out. Rejected and not billed: it is voided."""
    waiting = UsageRecord.objects.filter(run=run, push_state=UsageRecord.PushState.WAITING)
    if decision == Run.Moderation.APPROVED:
        waiting.update(push_state=UsageRecord.PushState.PENDING, next_push_at=timezone.now())
    elif not rejected_runs_billed():
        waiting.update(push_state=UsageRecord.PushState.VOIDED)
        RunCharge.objects.filter(run=run).update(amount=0, state=RunCharge.State.RELEASED)


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
