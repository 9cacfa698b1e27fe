"""Billing follows seedance's runs through its signals; seedance never imports billing.

The two delivery receivers are connected here, where they are declared, with the same
``dispatch_uid`` discipline as ``BillingConfig.ready()`` (which imports this module).
"""

from decimal import Decimal
from typing import Any

from django.db import transaction
from django.dispatch import receiver

from billing.conf import stripe_enabled
from billing.ledger import (
    usage_record_after_delivery,
    usage_record_after_review,
    usage_record_for_run,
)
from billing.models import UsageRecord
from billing.tasks import enqueue_push
from seedance.models import Run
from seedance.signals import run_delivered, run_undeliverable


def on_run_finished(sender: Any, run: Run, **kwargs: Any) -> None:
    """In the terminal transition's transaction: the ledger row commits with the status,
    waiting for the run's delivery before anything is pushed."""
    record = usage_record_for_run(run)
    if record is not None and record.push_state == UsageRecord.PushState.PENDING:
        _push_after_commit()


@receiver(run_delivered, dispatch_uid="billing.on_run_delivered")
@receiver(run_undeliverable, dispatch_uid="billing.on_run_undeliverable")
def on_run_delivery_settled(sender: Any, run: Run, **kwargs: Any) -> None:
    """In the delivery's transaction: delivered makes the row pushable (or leaves it to
    the review); a copy that failed for good voids it and releases the charge."""
    if usage_record_after_delivery(run) is not None:
        _push_after_commit()


def _push_after_commit() -> None:
    if stripe_enabled():
        transaction.on_commit(enqueue_push, robust=True)


def on_run_cost_recorded(sender: Any, run_id: Any, cost: Decimal, **kwargs: Any) -> None:
    """Runflow's charge beside ours, for margin reports; it arrives after the ledger row."""
    UsageRecord.objects.filter(run_id=run_id, provider_cost__isnull=True).update(provider_cost=cost)


def on_run_moderated(sender: Any, run: Run, decision: str, **kwargs: Any) -> None:
    """In the decision's transaction: release or void a held run's waiting usage."""
    usage_record_after_review(run, decision)
    if decision == Run.Moderation.APPROVED:
        _push_after_commit()
