"""Provisioning Stripe twice makes nothing twice; every tenant ends up subscribed to every
price it sells at, in this deployment's namespace, anchored on the UTC month."""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from billing.exceptions import SubscriptionEnded
from billing.models import MeteredPrice, SubscriptionItem, TenantBilling
from billing.naming import NAMESPACE_KEY, TENANT_KEY
from billing.periods import month_start, next_month_start
from billing.provisioning import stripe_provision
from billing.stripe_client import stripe_client
from billing.stripe_fake import StripeFake
from tests.billing.factories import new_price


def test_provisioning_creates_a_meter_and_price_per_resolution_and_unit_price(
    tenant: Any, stripe_fake: StripeFake
) -> None:
    stripe_provision(client=stripe_client())
    meters = {m["event_name"] for m in stripe_fake.meters()}
    assert meters == {"seedance-dev_seconds_480p_0_108", "seedance-dev_seconds_720p_0_2419"}
    prices = {p["lookup_key"]: Decimal(p["unit_amount_decimal"]) for p in stripe_fake.prices()}
    assert prices == {  # cents per second
        "seedance-dev_seconds_480p_0_108": Decimal("10.8"),
        "seedance-dev_seconds_720p_0_2419": Decimal("24.19"),
    }


def test_subscription_is_anchored_on_the_utc_month_with_flexible_billing(
    tenant: Any, stripe_fake: StripeFake
) -> None:
    now = timezone.now()
    stripe_provision(client=stripe_client(), now=now)
    billing = TenantBilling.objects.get(tenant=tenant)
    assert billing.subscription_status == TenantBilling.SubscriptionStatus.ACTIVE
    (subscription,) = stripe_fake.subscriptions()
    assert subscription["customer"] == billing.stripe_customer_id
    assert subscription["billing_cycle_anchor"] == int(next_month_start(now).timestamp())
    assert subscription["start_date"] == int(month_start(now).timestamp())
    assert subscription["billing_mode"]["type"] == "flexible"
    assert len(subscription["items"]["data"]) == 2
    assert SubscriptionItem.objects.filter(subscription_id=subscription["id"]).count() == 2


def test_every_object_carries_the_namespace_and_the_tenants_uuid(
    tenant: Any, stripe_fake: StripeFake
) -> None:
    stripe_provision(client=stripe_client())
    (customer,) = stripe_fake.customers()
    (subscription,) = stripe_fake.subscriptions()
    for obj in (customer, subscription):
        assert obj["metadata"][NAMESPACE_KEY] == "seedance-dev"
        assert obj["metadata"][TENANT_KEY] == str(tenant.uuid)


def test_provisioning_twice_creates_nothing_the_second_time(
    tenant: Any, stripe_fake: StripeFake
) -> None:
    stripe_provision(client=stripe_client())
    again = stripe_provision(client=stripe_client())
    made = (again.meters, again.prices, again.customers, again.subscriptions, again.items)
    assert made == ([], [], [], [], [])
    assert len(stripe_fake.customers()) == 1
    assert len(stripe_fake.subscriptions()) == 1


def test_provisioning_after_losing_our_records_finds_stripes_objects(
    tenant: Any, stripe_fake: StripeFake
) -> None:
    stripe_provision(client=stripe_client())
    SubscriptionItem.objects.all().delete()
    MeteredPrice.objects.all().delete()
    TenantBilling.objects.all().delete()
    stripe_provision(client=stripe_client())
    assert len(stripe_fake.meters()) == 2
    assert len(stripe_fake.prices()) == 2
    assert len(stripe_fake.customers()) == 1
    assert len(stripe_fake.subscriptions()) == 1
    assert SubscriptionItem.objects.count() == 2


def test_a_tenant_price_gets_its_own_meter_and_only_that_tenants_subscription_carries_it(
    tenant: Any, other_tenant: Any, stripe_fake: StripeFake
) -> None:
    new_price(tenant, "720p", "0.30")
    stripe_provision(client=stripe_client())
    assert MeteredPrice.objects.filter(resolution="720p").count() == 2
    mine = TenantBilling.objects.get(tenant=tenant).stripe_subscription_id
    theirs = TenantBilling.objects.get(tenant=other_tenant).stripe_subscription_id
    price_of = {p.price_id: p.unit_price for p in MeteredPrice.objects.all()}
    by_subscription = {
        s["id"]: {price_of[i["price"]["id"]] for i in s["items"]["data"]}
        for s in stripe_fake.subscriptions()
    }
    assert Decimal("0.3") in by_subscription[mine]
    assert Decimal("0.3") not in by_subscription[theirs]


def test_a_price_change_adds_its_item_to_the_live_subscription(
    tenant: Any, stripe_fake: StripeFake
) -> None:
    stripe_provision(client=stripe_client())
    new_price(tenant, "720p", "0.30")
    report = stripe_provision(client=stripe_client())
    assert len(report.items) == 1
    (subscription,) = stripe_fake.subscriptions()
    amounts = {Decimal(i["price"]["unit_amount_decimal"]) for i in subscription["items"]["data"]}
    assert Decimal("30") in amounts
    assert Decimal("24.19") in amounts  # kept: runs admitted at it may still be unsent


def test_a_canceled_subscription_is_replaced_not_replayed(
    tenant: Any, stripe_fake: StripeFake
) -> None:
    stripe_provision(client=stripe_client())
    old = TenantBilling.objects.get(tenant=tenant).stripe_subscription_id
    stripe_client().v1.subscriptions.cancel(old)
    TenantBilling.objects.filter(tenant=tenant).update(subscription_status="canceled")
    with pytest.raises(SubscriptionEnded):
        stripe_provision(client=stripe_client())  # billing one who canceled is a decision
    stripe_provision(client=stripe_client(), resubscribe=True)
    billing = TenantBilling.objects.get(tenant=tenant)
    assert billing.stripe_subscription_id != old
    assert billing.subscription_status == TenantBilling.SubscriptionStatus.ACTIVE
    assert billing.subscription_created_at is not None
    assert billing.subscription_created_at <= datetime.now(UTC)
