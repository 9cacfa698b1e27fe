"""A subscription's items: one per metered price the tenant may sell at. Stripe bills an
item's usage only from when it was added, so items are added before a price is sold at
(never at push time) and retired only when nothing can land on them any more."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import stripe

from billing.conf import setting
from billing.exceptions import SubscriptionFull
from billing.models import MeteredPrice, SubscriptionItem, UsageRecord
from billing.naming import idempotency_key, object_metadata
from billing.periods import month_start
from seedance.models import Tenant


def items_ensure(
    client: stripe.StripeClient,
    tenant: Tenant,
    subscription: Any,
    metered: list[MeteredPrice],
) -> list[str]:
    """Every needed price's item on the subscription (Stripe's own items are the truth);
    returns the ids of the items added."""
    added: list[str] = []
    by_price = {price.price_id: price for price in MeteredPrice.objects.all()}
    live = {item.price.id: item for item in subscription["items"]["data"]}
    for item in live.values():
        if item.price.id in by_price:
            _remember_item(tenant, subscription.id, by_price[item.price.id], item)
    missing = [price for price in metered if price.price_id not in live]
    limit = int(setting("MAX_SUBSCRIPTION_ITEMS"))
    if missing and len(live) + len(missing) > limit:
        raise SubscriptionFull(
            f"{tenant} would need {len(live) + len(missing)} items on {subscription.id}; "
            f"Stripe allows {limit}: retire unused prices first."
        )
    for price in missing:
        item = client.v1.subscription_items.create(
            params={
                "subscription": subscription.id,
                "price": price.price_id,
                "proration_behavior": "none",
                "metadata": object_metadata(tenant),
            },
            options={"idempotency_key": idempotency_key("item", subscription.id, price.price_id)},
        )
        added.append(item.id)
        _remember_item(tenant, subscription.id, price, item)
    return added


def items_retire_unused(
    client: stripe.StripeClient,
    tenant: Tenant,
    subscription_id: str,
    carried: set[tuple[str, Decimal]],
    retired: list[str],
    *,
    now: datetime,
) -> None:
    """Items of prices nothing carries any more leave the subscription once a new period's
    grace hour has passed (late events of the last period may still land on them) and no
    usage of this period is on them; Stripe allows only 20 items."""
    period_start = month_start(now)
    if now < period_start + timedelta(seconds=int(setting("PERIOD_GRACE_SECONDS"))):
        return
    live = SubscriptionItem.objects.filter(
        tenant=tenant, subscription_id=subscription_id, retired_at__isnull=True
    ).select_related("metered_price")
    for item in live:
        price = item.metered_price
        if (
            item.added_at >= period_start
            or (price.resolution, price.unit_price.normalize()) in carried
        ):
            continue  # retired only at a period end: this period may still bill on it
        used = UsageRecord.objects.filter(
            tenant=tenant,
            resolution=price.resolution,
            unit_price=price.unit_price,
            event_timestamp__gte=period_start,
        ).exists()
        if used:
            continue
        client.v1.subscription_items.delete(item.item_id, params={"proration_behavior": "none"})
        SubscriptionItem.objects.filter(pk=item.pk).update(retired_at=now)
        retired.append(item.item_id)


def _remember_item(tenant: Tenant, subscription_id: str, price: MeteredPrice, item: Any) -> None:
    SubscriptionItem.objects.get_or_create(
        item_id=item.id,
        defaults={
            "tenant": tenant,
            "subscription_id": subscription_id,
            "metered_price": price,
            "added_at": datetime.fromtimestamp(item.created, tz=UTC),
        },
    )
