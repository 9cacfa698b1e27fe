"""Billing follows seedance's runs through its signals; seedance never imports billing.
``BillingConfig.ready()`` connects each receiver."""

from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from billing.autoprovision import provision_soon
from billing.conf import setting, stripe_enabled
from billing.ledger import (
    usage_record_after_delivery,
    usage_record_after_review,
    usage_record_for_run,
)
from billing.models import Price, TenantBilling, UsageRecord
from billing.tasks import enqueue_provision, enqueue_push
from seedance.models import Run, Tenant


def on_run_finished(sender: Any, run: Run, **kwargs: Any) -> None:
    """In the terminal transition's transaction: the ledger row commits with the status,
    waiting for the run's delivery before anything is pushed."""
    record = usage_record_for_run(run)
    if record is not None and record.push_state == UsageRecord.PushState.PENDING:
        _push_after_commit()


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


def on_tenant_saved(sender: Any, instance: Tenant, created: bool, **kwargs: Any) -> None:
    """A new tenant is subscribed at once, so its first run's usage already bills."""
    if not created:
        return
    TenantBilling.objects.get_or_create(
        tenant=instance, defaults={"next_provision_at": timezone.now()}
    )
    if stripe_enabled() and setting("AUTO_PROVISION"):
        transaction.on_commit(enqueue_provision, robust=True)


def on_tenant_created(sender: Any, tenant: Tenant, founder: Any, **kwargs: Any) -> None:
    """The founder's address is the tenant's billing email until someone sets another, so the
    Stripe customer made on commit already has one (invoices and receipts go somewhere)."""
    if founder.email:
        TenantBilling.objects.filter(tenant=tenant, billing_email="").update(
            billing_email=founder.email
        )


def on_price_saved(sender: Any, instance: Price, created: bool, **kwargs: Any) -> None:
    """A new price's item goes on every subscription it applies to before it is sold at."""
    if not created:
        return
    provision_soon([instance.tenant_id] if instance.tenant_id else None)
    if stripe_enabled() and setting("AUTO_PROVISION"):
        transaction.on_commit(enqueue_provision, robust=True)
