"""Subscription items: one price each, at most 20 per subscription, no price twice.

A removed item is kept aside (``store.removed_items``) with its removal time, so the period's
invoice still bills the usage it carried until then, unless ``clear_usage`` was set.
"""

from typing import Any

from stripe.params import (
    SubscriptionItemCreateParams,
    SubscriptionItemDeleteParams,
    SubscriptionItemListParams,
)

from .forms import flag, integer, invalid, metadata, missing, no_such, text
from .store import Store, found, new_id, page, route

MAX_ITEMS = 20


def check_items(current: list[dict[str, Any]], raw_items: list[Any], store: Store) -> None:
    """Refuse before anything changes: Stripe's item limit and one item per price."""
    prices = [item["price"]["id"] for item in current]
    for index, raw in enumerate(raw_items):
        if not isinstance(raw, dict):
            raise invalid("Invalid hash", param=f"items[{index}]")
        price_id = text(raw, "price")
        if price_id is None:
            raise missing(f"items[{index}][price]")
        prices.append(price_id)
    if len(prices) > MAX_ITEMS:
        raise invalid(f"A subscription can have at most {MAX_ITEMS} items.", param="items")
    if len(set(prices)) < len(prices):
        raise invalid("Cannot add multiple subscription items with the same price.", param="items")


def add_items(
    store: Store, subscription: dict[str, Any], raw_items: list[Any], created: int
) -> list[dict[str, Any]]:
    data = subscription["items"]["data"]
    check_items(data, raw_items, store)
    items = [
        _item(store, raw, index, subscription["id"], created) for index, raw in enumerate(raw_items)
    ]
    prices = [item["price"] for item in data + items]
    if len({price["currency"] for price in prices}) > 1:
        raise invalid("All prices on a subscription must have the same currency.", param="items")
    cycles = {(p["recurring"]["interval"], p["recurring"]["interval_count"]) for p in prices}
    if len(cycles) > 1:
        raise invalid(
            "All prices on a subscription must have the same recurring interval.", param="items"
        )
    data.extend(items)
    subscription["items"]["total_count"] = len(data)
    return items


def _item(store: Store, raw: Any, index: int, subscription_id: str, now: int) -> dict[str, Any]:
    name = f"items[{index}]"
    price_id = text(raw, "price") or ""
    price = found(store.prices, price_id, "price", param=f"{name}[price]", status=400)
    if price["type"] != "recurring":
        raise invalid(
            "The price specified is set to `type=one_time` but this field only accepts "
            "prices with `type=recurring`.",
            param=f"{name}[price]",
        )
    if not price["active"]:
        raise invalid("The price specified is inactive.", param=f"{name}[price]")
    metered = price["recurring"]["usage_type"] == "metered"
    quantity: int | None = None if metered else 1
    if raw.get("quantity") not in (None, ""):
        if metered:
            raise invalid(
                f"Quantity should not be specified where usage_type is `metered`. "
                f"Remove quantity from `{name}`.",
                param=f"{name}[quantity]",
            )
        quantity = integer(raw["quantity"], f"{name}[quantity]")
    return {
        "id": new_id("si"),
        "object": "subscription_item",
        "created": now,
        "current_period_start": now,
        "current_period_end": now,
        "metadata": metadata(raw),
        "price": dict(price),
        "quantity": quantity,
        "subscription": subscription_id,
    }


def retire(
    store: Store, subscription_id: str, item: dict[str, Any], now: int, clear_usage: bool
) -> None:
    kept = {**item, "removed_at": now, "clear_usage": clear_usage}
    store.removed_items.setdefault(subscription_id, []).append(kept)


def create_item(store: Store, params: dict[str, Any]) -> dict[str, Any]:
    subscription_id = text(params, "subscription", required=True) or ""
    subscription = found(
        store.subscriptions, subscription_id, "subscription", param="subscription", status=400
    )
    if subscription["status"] == "canceled":
        raise invalid(f"The subscription {subscription_id} is canceled.", param="subscription")
    raw = {key: params[key] for key in ("price", "quantity", "metadata") if key in params}
    [item] = add_items(store, subscription, [raw], store.timestamp())
    item.update(
        current_period_start=subscription["items"]["data"][0]["current_period_start"],
        current_period_end=subscription["items"]["data"][0]["current_period_end"],
    )
    return item


def remove_item(store: Store, params: dict[str, Any], item_id: str) -> dict[str, Any]:
    for subscription in store.subscriptions.values():
        data = subscription["items"]["data"]
        item = next((i for i in data if i["id"] == item_id), None)
        if item is None:
            continue
        if len(data) == 1:
            raise invalid(
                "A subscription must have at least one active plan. To cancel a subscription, "
                "please use the cancel API endpoint on /v1/subscriptions.",
                param="id",
            )
        data.remove(item)
        subscription["items"]["total_count"] = len(data)
        retire(
            store, subscription["id"], item, store.timestamp(), flag(params, "clear_usage", False)
        )
        return {"id": item_id, "object": "subscription_item", "deleted": True}
    raise no_such("subscription item", item_id, param="id", status=404)


def list_items(store: Store, params: dict[str, Any]) -> dict[str, Any]:
    subscription_id = text(params, "subscription", required=True) or ""
    subscription = found(
        store.subscriptions, subscription_id, "subscription", param="subscription", status=400
    )
    return page(list(subscription["items"]["data"]), params, "/v1/subscription_items", "item")


ROUTES = [
    route("POST", "/v1/subscription_items", create_item, SubscriptionItemCreateParams),
    route("GET", "/v1/subscription_items", list_items, SubscriptionItemListParams),
    route("DELETE", "/v1/subscription_items/{id}", remove_item, SubscriptionItemDeleteParams),
]
