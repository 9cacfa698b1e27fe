"""Provisioning Stripe for metered billing, idempotently: run it any number of times.

Without a subscription, or without the item of a price, Stripe bills usage to nobody,
silently. So each tenant gets a customer, a subscription anchored on the UTC month and
an item for every price it may sell at, before a run at that price is admitted. Objects
are found by our stored ids first, by namespaced lookup keys or metadata only to recover,
and created with namespaced idempotency keys that change whenever an object must be made
anew, so a rerun or a lost answer never makes a second one nor replays a stale one.
"""

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import stripe
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from billing.conf import setting
from billing.customer_portal import portal_configuration_ensure
from billing.exceptions import SubscriptionEnded
from billing.models import MeteredPrice, TenantBilling
from billing.naming import (
    idempotency_key,
    is_ours,
    meter_event_name,
    metered_price_label,
    object_metadata,
)
from billing.periods import month_start, next_month_start
from billing.selectors import prices_to_carry
from billing.subscription_items import items_ensure, items_retire_unused
from seedance.models import Tenant

logger = logging.getLogger(__name__)

ALIVE = ("active", "trialing", "past_due", "unpaid", "incomplete", "paused")


@dataclass
class ProvisionReport:
    meters: list[str] = field(default_factory=list)
    prices: list[str] = field(default_factory=list)
    customers: list[str] = field(default_factory=list)
    subscriptions: list[str] = field(default_factory=list)
    items: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)


def stripe_provision(
    *,
    client: stripe.StripeClient,
    tenants: list[Tenant] | None = None,
    now: datetime | None = None,
    resubscribe: bool = False,
) -> ProvisionReport:
    now = now or timezone.now()
    report = ProvisionReport()
    portal_configuration_ensure(client=client)
    for tenant in tenants if tenants is not None else list(Tenant.objects.order_by("pk")):
        provision_tenant(client, tenant, report, now=now, resubscribe=resubscribe)
    return report


def provision_tenant(
    client: stripe.StripeClient,
    tenant: Tenant,
    report: ProvisionReport,
    *,
    now: datetime,
    resubscribe: bool = False,
    email: str | None = None,
) -> None:
    """A tenant whose subscription ended gets a new one only when asked (``resubscribe``):
    billing someone who canceled is a decision, not a retry. ``email`` (the founder's, when
    known) becomes the customer's billing email; the portal configuration is made once."""
    portal_configuration_ensure(client=client)
    if email:
        TenantBilling.objects.get_or_create(tenant=tenant)
        TenantBilling.objects.filter(pk=tenant.pk, billing_email="").update(billing_email=email)
    carried = prices_to_carry(tenant=tenant, now=now)
    metered = [
        metered_price_for(client, resolution, unit_price, report)
        for resolution, unit_price in sorted(carried)
    ]
    customer_id = _customer(client, tenant, report)
    subscription = _subscription(
        client, tenant, customer_id, metered, report, now=now, resubscribe=resubscribe
    )
    items_retire_unused(client, tenant, subscription.id, carried, report.retired, now=now)
    report.items.extend(items_ensure(client, tenant, subscription, metered))
    TenantBilling.objects.filter(pk=tenant.pk).update(
        provision_attempts=0, next_provision_at=None, last_provision_error=""
    )


def metered_price_for(
    client: stripe.StripeClient, resolution: str, unit_price: Decimal, report: ProvisionReport
) -> MeteredPrice:
    """The meter and metered price for a (resolution, unit price), made once per account."""
    stored = MeteredPrice.objects.filter(resolution=resolution, unit_price=unit_price).first()
    if stored is not None:
        return stored
    event_name = meter_event_name(resolution, unit_price)
    label = metered_price_label(resolution, unit_price)
    meter = next(
        (
            meter
            for meter in client.v1.billing.meters.list(
                params={"status": "active", "limit": 100}
            ).auto_paging_iter()
            if meter.event_name == event_name
        ),
        None,
    ) or client.v1.billing.meters.create(
        params={
            "display_name": label,
            "event_name": event_name,
            "default_aggregation": {"formula": "sum"},
            "customer_mapping": {"type": "by_id", "event_payload_key": "stripe_customer_id"},
            "value_settings": {"event_payload_key": "value"},
        },
        options={"idempotency_key": idempotency_key("meter", event_name)},
    )
    report.meters.append(meter.id)
    found = client.v1.prices.list(params={"lookup_keys": [event_name], "limit": 1}).data
    price = (
        found[0]
        if found
        else client.v1.prices.create(
            params={
                "currency": "usd",
                # Stripe takes cents; per-second prices need sub-cent decimals (never floats).
                "unit_amount_decimal": unit_price * 100,
                "recurring": {"interval": "month", "usage_type": "metered", "meter": meter.id},
                "product_data": {"name": label, "metadata": object_metadata()},
                "lookup_key": event_name,
                "metadata": object_metadata(),
            },
            options={"idempotency_key": idempotency_key("price", event_name)},
        )
    )
    report.prices.append(price.id)
    try:
        with transaction.atomic():
            return MeteredPrice.objects.create(
                resolution=resolution,
                unit_price=unit_price,
                event_name=event_name,
                meter_id=meter.id,
                price_id=price.id,
            )
    except IntegrityError:
        return MeteredPrice.objects.get(resolution=resolution, unit_price=unit_price)


def _customer(client: stripe.StripeClient, tenant: Tenant, report: ProvisionReport) -> str:
    billing, _ = TenantBilling.objects.get_or_create(tenant=tenant)
    if billing.stripe_customer_id:
        return billing.stripe_customer_id
    found = [
        customer
        for customer in client.v1.customers.search(
            params={"query": f"metadata['seedance_tenant']:'{tenant.uuid}'"}
        ).data
        if is_ours(customer.metadata, tenant) and not getattr(customer, "deleted", False)
    ]
    customer = (
        found[0]
        if found
        else client.v1.customers.create(
            params={
                "name": tenant.name,
                **({"email": billing.billing_email} if billing.billing_email else {}),
                "metadata": object_metadata(tenant),
                **({"test_clock": clock} if (clock := setting("STRIPE_TEST_CLOCK")) else {}),
            },
            options={
                "idempotency_key": idempotency_key(
                    "customer", tenant.uuid, billing.customer_generation
                )
            },
        )
    )
    report.customers.append(customer.id)
    TenantBilling.objects.filter(pk=tenant.pk).update(stripe_customer_id=customer.id)
    return str(customer.id)


def _subscription(
    client: stripe.StripeClient,
    tenant: Tenant,
    customer_id: str,
    metered: list[MeteredPrice],
    report: ProvisionReport,
    *,
    now: datetime,
    resubscribe: bool,
) -> Any:
    billing = TenantBilling.objects.get(pk=tenant.pk)
    if billing.stripe_subscription_id and billing.subscription_status in ALIVE:
        return client.v1.subscriptions.retrieve(billing.stripe_subscription_id)
    if billing.stripe_subscription_id and not resubscribe:
        raise SubscriptionEnded(
            f"{tenant}'s subscription {billing.stripe_subscription_id} is "
            f"{billing.subscription_status}: its usage is held until it subscribes again "
            "(`manage.py stripe_provision --resubscribe`)."
        )
    if billing.stripe_subscription_id:
        # The stored one has ended: the next must not replay the answer that made it.
        TenantBilling.objects.filter(pk=tenant.pk).update(
            subscription_generation=F("subscription_generation") + 1
        )
        billing.refresh_from_db()
    ours = sorted(
        (
            subscription
            for subscription in client.v1.subscriptions.list(
                params={"customer": customer_id, "status": "all", "limit": 100}
            ).data
            if subscription.status in ALIVE and is_ours(subscription.metadata, tenant)
        ),
        key=lambda subscription: subscription.created,
    )
    subscription = (
        ours[-1]
        if ours
        else client.v1.subscriptions.create(
            params={
                "customer": customer_id,
                "items": [{"price": price.price_id} for price in metered],
                # Periods are UTC months; usage since the month began bills on the first.
                "backdate_start_date": int(month_start(now).timestamp()),
                "billing_cycle_anchor": int(next_month_start(now).timestamp()),
                "proration_behavior": "none",
                "billing_mode": {"type": "flexible"},
                "metadata": object_metadata(tenant),
            },
            options={
                "idempotency_key": idempotency_key(
                    "subscription", tenant.uuid, billing.subscription_generation
                )
            },
        )
    )
    report.subscriptions.append(subscription.id)
    TenantBilling.objects.filter(pk=tenant.pk).update(
        stripe_subscription_id=subscription.id,
        subscription_status=subscription.status,
        subscription_status_at=timezone.now(),
        subscription_created_at=datetime.fromtimestamp(subscription.created, tz=UTC),
    )
    return subscription
