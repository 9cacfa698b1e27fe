"""Billing follows seedance's runs through its signal; seedance never imports billing."""

from decimal import Decimal
from typing import Any

from django.db import transaction

from billing.conf import stripe_enabled
from billing.ledger import usage_record_after_review, usage_record_for_run
from billing.models import UsageRecord
from billing.tasks import enqueue_push
from seedance.models import Run


def on_run_finished(sender: Any, run: Run, **kwargs: Any) -> None:
    """In the terminal transition's transaction: the ledger row commits with the status."""
    record = usage_record_for_run(run)
    if record is not None and stripe_enabled():
        transaction.on_commit(enqueue_push, robust=True)


def on_run_cost_recorded(sender: Any, run_id: Any, cost: Decimal, **kwargs: Any) -> None:
    """Runflow's charge beside ours, for margin reports; it arrives after the ledger row."""
    UsageRecord.objects.filter(run_id=run_id, provider_cost__isnull=True).update(provider_cost=cost)


def on_run_moderated(sender: Any, run: Run, decision: str, **kwargs: Any) -> None:
    """In the decision's transaction: release or void a held run's waiting usage."""
    usage_record_after_review(run, decision)
    if decision == Run.Moderation.APPROVED and stripe_enabled():
        transaction.on_commit(enqueue_push, robust=True)
