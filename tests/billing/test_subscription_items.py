"""Items: one per price sold at, added before the price is, retired only at a period end
once nothing can land on them."""

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from billing.exceptions import SubscriptionFull
from billing.models import SubscriptionItem, TenantBilling
from billing.periods import next_month_start
from billing.pricing import unit_price
from billing.provisioning import stripe_provision
from billing.stripe_client import stripe_client
from billing.stripe_fake import StripeFake
from tests.billing.conftest import Clock
from tests.billing.factories import billable_run, new_price


def live_prices(tenant: Any) -> set[Decimal]:
    return {
        item.metered_price.unit_price.normalize()
        for item in SubscriptionItem.objects.filter(tenant=tenant, retired_at__isnull=True)
        .select_related("metered_price")
        .filter(metered_price__resolution="720p")
    }


def test_a_new_price_is_sold_only_once_its_item_is_on_the_subscription(
    tenant: Any, stripe_fake: StripeFake
) -> None:
    stripe_provision(client=stripe_client())
    new_price(tenant, "720p", "0.30")
    assert unit_price(tenant=tenant, resolution="720p") == Decimal("0.2419")  # not yet
    stripe_provision(client=stripe_client())
    assert unit_price(tenant=tenant, resolution="720p") == Decimal("0.30")


def test_an_old_prices_item_is_retired_at_the_next_period_after_its_grace_hour(
    tenant: Any, clocked_stripe: StripeFake, clock: Clock
) -> None:
    stripe_provision(client=stripe_client(), now=clock.now())
    new_price(tenant, "720p", "0.30")
    stripe_provision(client=stripe_client(), now=clock.now())
    assert live_prices(tenant) == {Decimal("0.2419"), Decimal("0.3")}  # this period keeps it
    next_period = next_month_start(clock.now())
    clock.set(next_period + timedelta(minutes=30))
    stripe_provision(client=stripe_client(), now=clock.now())
    assert live_prices(tenant) == {Decimal("0.2419"), Decimal("0.3")}  # late events may land
    clock.set(next_period + timedelta(hours=1, minutes=1))
    stripe_provision(client=stripe_client(), now=clock.now())
    assert live_prices(tenant) == {Decimal("0.3")}


def test_an_item_an_unsent_row_carries_is_never_retired(
    tenant: Any, clocked_stripe: StripeFake, clock: Clock, settings: Any
) -> None:
    settings.BILLING = {**settings.BILLING, "AUTO_PROVISION": False}
    stripe_provision(client=stripe_client(), now=clock.now())
    billable_run(tenant)  # at 0.2419, not yet sent
    new_price(tenant, "720p", "0.30")
    clock.set(next_month_start(clock.now()) + timedelta(hours=2))
    stripe_provision(client=stripe_client(), now=clock.now())
    assert Decimal("0.2419") in live_prices(tenant)


def test_more_than_twenty_items_is_refused_before_stripe_is_asked(
    tenant: Any, stripe_fake: StripeFake, settings: Any
) -> None:
    settings.BILLING = {**settings.BILLING, "MAX_SUBSCRIPTION_ITEMS": 3}
    stripe_provision(client=stripe_client())
    for cents in ("0.31", "0.32"):
        new_price(tenant, "720p", cents, effective_from=timezone.now() + timedelta(days=1))
    with pytest.raises(SubscriptionFull):
        stripe_provision(client=stripe_client())
    assert TenantBilling.objects.get(tenant=tenant).stripe_subscription_id
