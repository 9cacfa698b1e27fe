"""Provisioning Stripe twice makes nothing twice; every tenant ends up subscribed."""

from decimal import Decimal
from typing import Any

from billing.models import StripeMeter, StripePrice, TenantBilling, TenantPrice
from billing.provisioning import stripe_provision
from billing.stripe_client import stripe_client
from billing.stripe_fake import StripeFake


def test_provisioning_creates_meters_prices_customer_and_subscription(
    tenant: Any, stripe_fake: StripeFake
) -> None:
    stripe_provision(client=stripe_client())
    meters = {m["event_name"]: m for m in stripe_fake.meters()}
    assert set(meters) == {"seedance_seconds_480p", "seedance_seconds_720p"}
    prices = {Decimal(p["unit_amount_decimal"]) for p in stripe_fake.prices()}
    assert prices == {Decimal("10.8"), Decimal("24.19")}  # cents per second
    billing = TenantBilling.objects.get(tenant=tenant)
    assert billing.subscription_status == TenantBilling.SubscriptionStatus.ACTIVE
    (subscription,) = stripe_fake.subscriptions()
    assert subscription["customer"] == billing.stripe_customer_id
    assert len(subscription["items"]["data"]) == 2


def test_provisioning_twice_creates_nothing_the_second_time(
    tenant: Any, stripe_fake: StripeFake
) -> None:
    stripe_provision(client=stripe_client())
    again = stripe_provision(client=stripe_client())
    assert (again.meters, again.prices, again.customers, again.subscriptions) == ([], [], [], [])
    assert len(stripe_fake.customers()) == 1
    assert len(stripe_fake.subscriptions()) == 1


def test_provisioning_after_losing_our_records_finds_stripes_objects(
    tenant: Any, stripe_fake: StripeFake
) -> None:
    stripe_provision(client=stripe_client())
    StripePrice.objects.all().delete()
    StripeMeter.objects.all().delete()
    TenantBilling.objects.all().delete()
    stripe_provision(client=stripe_client())
    assert len(stripe_fake.meters()) == 2
    assert len(stripe_fake.prices()) == 2
    assert len(stripe_fake.customers()) == 1
    assert len(stripe_fake.subscriptions()) == 1


def test_tenant_price_override_gets_its_own_metered_price(
    tenant: Any, other_tenant: Any, stripe_fake: StripeFake
) -> None:
    TenantPrice.objects.create(tenant=tenant, resolution="720p", price_per_second=Decimal("0.30"))
    stripe_provision(client=stripe_client())
    assert StripePrice.objects.filter(meter__resolution="720p").count() == 2
    assert len(stripe_fake.subscriptions()) == 2
