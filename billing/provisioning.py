"""Provisioning Stripe for metered billing, idempotently: run it any number of times.

Without a subscription Stripe invoices nothing, silently, so each tenant gets a customer
and a subscription to its metered prices. Every object is found before it is created (by
our stored id, then by Stripe lookup key or metadata), and created with an idempotency
key, so a rerun or a lost answer never makes a second one.
"""

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

import stripe
from django.db import transaction

from billing.conf import setting
from billing.models import StripeMeter, StripePrice, TenantBilling
from billing.pricing import unit_price
from seedance.models import Tenant
from seedance.run_input import RESOLUTIONS

logger = logging.getLogger(__name__)

ALIVE = ("active", "trialing", "past_due", "unpaid", "incomplete", "paused")


@dataclass
class ProvisionReport:
    meters: list[str] = field(default_factory=list)
    prices: list[str] = field(default_factory=list)
    customers: list[str] = field(default_factory=list)
    subscriptions: list[str] = field(default_factory=list)


def stripe_provision(
    *, client: stripe.StripeClient, tenants: list[Tenant] | None = None
) -> ProvisionReport:
    report = ProvisionReport()
    meters = {resolution: _meter(client, resolution, report) for resolution in RESOLUTIONS}
    for tenant in tenants if tenants is not None else list(Tenant.objects.order_by("pk")):
        prices = [
            _price(
                client, meters[resolution], unit_price(tenant=tenant, resolution=resolution), report
            )
            for resolution in RESOLUTIONS
        ]
        customer_id = _customer(client, tenant, report)
        _subscription(client, tenant, customer_id, prices, report)
    return report


def _meter(client: stripe.StripeClient, resolution: str, report: ProvisionReport) -> StripeMeter:
    event_name = f"{setting('METER_EVENT_PREFIX')}_{resolution.replace('p', '')}p"
    stored = StripeMeter.objects.filter(resolution=resolution).first()
    if stored is not None:
        return stored
    existing = next(
        (
            meter
            for meter in client.v1.billing.meters.list(params={"status": "active", "limit": 100})
            if meter.event_name == event_name
        ),
        None,
    )
    meter = existing or client.v1.billing.meters.create(
        params={
            "display_name": f"Seedance video seconds, {resolution}",
            "event_name": event_name,
            "default_aggregation": {"formula": "sum"},
            "customer_mapping": {"type": "by_id", "event_payload_key": "stripe_customer_id"},
            "value_settings": {"event_payload_key": "value"},
        },
        options={"idempotency_key": f"meter-{event_name}"},
    )
    report.meters.append(meter.id)
    return StripeMeter.objects.create(
        resolution=resolution, event_name=event_name, meter_id=meter.id
    )


def _price(
    client: stripe.StripeClient, meter: StripeMeter, price: Decimal, report: ProvisionReport
) -> StripePrice:
    stored = StripePrice.objects.filter(meter=meter, unit_price=price).first()
    if stored is not None:
        return stored
    lookup_key = f"{meter.event_name}@{format(price.normalize(), 'f')}"
    found = client.v1.prices.list(params={"lookup_keys": [lookup_key], "limit": 1}).data
    stripe_price = (
        found[0]
        if found
        else client.v1.prices.create(
            params={
                "currency": "usd",
                # Stripe takes cents; per-second prices need sub-cent decimals (never floats).
                "unit_amount_decimal": price * 100,
                "recurring": {
                    "interval": "month",
                    "usage_type": "metered",
                    "meter": meter.meter_id,
                },
                "product_data": {"name": f"Seedance video seconds ({meter.resolution})"},
                "lookup_key": lookup_key,
            },
            options={"idempotency_key": f"price-{lookup_key}"},
        )
    )
    report.prices.append(stripe_price.id)
    return StripePrice.objects.create(meter=meter, unit_price=price, price_id=stripe_price.id)


def _customer(client: stripe.StripeClient, tenant: Tenant, report: ProvisionReport) -> str:
    billing, _ = TenantBilling.objects.get_or_create(tenant=tenant)
    if billing.stripe_customer_id:
        return billing.stripe_customer_id
    found = client.v1.customers.search(
        params={"query": f"metadata['seedance_tenant_id']:'{tenant.pk}'"}
    ).data
    customer = (
        found[0]
        if found
        else client.v1.customers.create(
            params={
                "name": tenant.name,
                "metadata": {"seedance_tenant_id": str(tenant.pk), "seedance_tenant": tenant.slug},
            },
            options={"idempotency_key": f"customer-{tenant.pk}"},
        )
    )
    report.customers.append(customer.id)
    TenantBilling.objects.filter(pk=tenant.pk).update(stripe_customer_id=customer.id)
    return str(customer.id)


def _subscription(
    client: stripe.StripeClient,
    tenant: Tenant,
    customer_id: str,
    prices: list[StripePrice],
    report: ProvisionReport,
) -> None:
    billing = TenantBilling.objects.get(pk=tenant.pk)
    if billing.stripe_subscription_id and billing.subscription_status in ALIVE:
        return
    live = [
        subscription
        for subscription in client.v1.subscriptions.list(params={"customer": customer_id}).data
        if subscription.status in ALIVE
    ]
    subscription = (
        live[0]
        if live
        else client.v1.subscriptions.create(
            params={
                "customer": customer_id,
                "items": [{"price": price.price_id} for price in prices],
            },
            options={"idempotency_key": f"subscription-{tenant.pk}-{customer_id}"},
        )
    )
    report.subscriptions.append(subscription.id)
    with transaction.atomic():
        TenantBilling.objects.filter(pk=tenant.pk).update(
            stripe_subscription_id=subscription.id,
            subscription_status=subscription.status,
            subscription_status_at=datetime.fromtimestamp(subscription.created, tz=UTC),
        )
