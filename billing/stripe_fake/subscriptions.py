"""Subscriptions: which metered prices bill a customer, from when, over which periods.

``billing_mode[type]``, ``billing_cycle_anchor`` (future) and ``backdate_start_date`` (past)
shape the first period ``[start, anchor)``; later ones follow the price's interval. Items
keep their ``created``: usage before an item existed is not billed on it.
"""

from typing import Any

from stripe.params import (
    SubscriptionCancelParams,
    SubscriptionCreateParams,
    SubscriptionListParams,
    SubscriptionRetrieveParams,
    SubscriptionSearchParams,
    SubscriptionUpdateParams,
)

from . import periods
from .customers import metadata_search
from .forms import as_list, choice, flag, hash_, integer, invalid, metadata, missing, text
from .items import add_items, check_items, retire
from .store import Store, found, new_id, page, route

COLLECTION = ("charge_automatically", "send_invoice")
PRORATION = ("always_invoice", "create_prorations", "none")
BILLING_MODES = ("classic", "flexible")
SUBSCRIPTION_STATUSES = (
    "active",
    "all",
    "canceled",
    "ended",
    "incomplete",
    "incomplete_expired",
    "past_due",
    "paused",
    "trialing",
    "unpaid",
)


def create_subscription(store: Store, params: dict[str, Any]) -> dict[str, Any]:
    customer_id = text(params, "customer", required=True) or ""
    customer = found(store.customers, customer_id, "customer", param="customer", status=400)
    if customer.get("deleted"):
        raise invalid(f"No such customer: '{customer_id}'", param="customer")
    raw_items = as_list(params, "items")
    if not raw_items:
        raise missing("items")
    now = store.timestamp()
    start, anchor = _start_and_anchor(params, now)
    mode = choice(hash_(params, "billing_mode"), "type", BILLING_MODES, "classic")
    choice(params, "proration_behavior", PRORATION, "create_prorations")
    subscription_id = new_id("sub")
    subscription: dict[str, Any] = {
        "id": subscription_id,
        "object": "subscription",
        "billing_cycle_anchor": anchor,
        "billing_mode": {"type": mode, "flexible": None, "updated_at": now},
        "cancel_at": None,
        "cancel_at_period_end": False,
        "canceled_at": None,
        "collection_method": choice(params, "collection_method", COLLECTION, COLLECTION[0]),
        "created": now,
        "currency": None,
        "customer": customer_id,
        "description": text(params, "description"),
        "ended_at": None,
        "items": {
            "object": "list",
            "data": [],
            "has_more": False,
            "total_count": 0,
            "url": f"/v1/subscription_items?subscription={subscription_id}",
        },
        "latest_invoice": None,
        "livemode": False,
        "metadata": metadata(params),
        "start_date": start,
        "status": "active",
        "trial_end": None,
        "trial_start": None,
    }
    add_items(store, subscription, raw_items, start)
    subscription["currency"] = subscription["items"]["data"][0]["price"]["currency"]
    store.subscriptions[subscription_id] = subscription
    refresh(store, subscription)
    return subscription


def _start_and_anchor(params: dict[str, Any], now: int) -> tuple[int, int]:
    raw_backdate, raw_anchor = params.get("backdate_start_date"), params.get("billing_cycle_anchor")
    start = integer(raw_backdate, "backdate_start_date") if raw_backdate else now
    if start > now:
        raise invalid("backdate_start_date must be in the past.", param="backdate_start_date")
    anchor = integer(raw_anchor, "billing_cycle_anchor") if raw_anchor else start
    if raw_anchor and anchor < now:
        raise invalid("billing_cycle_anchor cannot be in the past.", param="billing_cycle_anchor")
    return start, anchor


def refresh(store: Store, subscription: dict[str, Any]) -> None:
    """Items carry the current period (API 2025-03-31 moved it off the subscription)."""
    if subscription["status"] == "canceled" or not subscription["items"]["data"]:
        return
    start, end = periods.containing(subscription, store.now())
    for item in subscription["items"]["data"]:
        item.update(current_period_start=start, current_period_end=end)


def update_subscription(
    store: Store, params: dict[str, Any], subscription_id: str
) -> dict[str, Any]:
    subscription = found(store.subscriptions, subscription_id, "subscription")
    if subscription["status"] == "canceled":
        raise _canceled(subscription_id)
    choice(params, "proration_behavior", PRORATION, "create_prorations")
    if "metadata" in params:
        merged = {**subscription["metadata"], **hash_(params, "metadata")}
        subscription["metadata"] = metadata({"metadata": merged})
    if "description" in params:
        subscription["description"] = text(params, "description")
    raw_items = as_list(params, "items")
    now = store.timestamp()
    staged = [dict(item) for item in subscription["items"]["data"]]
    removals, additions = [], []
    for index, raw in enumerate(raw_items):
        if not isinstance(raw, dict):
            raise invalid("Invalid hash", param=f"items[{index}]")
        item_id = text(raw, "id")
        if item_id is None:
            additions.append(raw)
            continue
        current = next((i for i in staged if i["id"] == item_id), None)
        if current is None:
            raise invalid(f"No such subscription item: '{item_id}'", param=f"items[{index}][id]")
        if text(raw, "price") is not None and text(raw, "price") != current["price"]["id"]:
            raise invalid(
                "The fake cannot change an item's price in place: delete the item and add "
                "one with the new price.",
                param=f"items[{index}][price]",
            )
        if flag(raw, "deleted", False):
            staged.remove(current)
            removals.append((current, flag(raw, "clear_usage", False)))
        elif "metadata" in raw:
            current["metadata"] = metadata({"metadata": {**current["metadata"], **raw["metadata"]}})
    kept = {item["id"] for item in staged}
    subscription["items"]["data"] = [i for i in subscription["items"]["data"] if i["id"] in kept]
    for item in subscription["items"]["data"]:
        item["metadata"] = next(i for i in staged if i["id"] == item["id"])["metadata"]
    check_items(subscription["items"]["data"], additions, store)
    for item, clear_usage in removals:
        retire(store, subscription_id, item, now, clear_usage)
    add_items(store, subscription, additions, now)
    refresh(store, subscription)
    return subscription


def _canceled(subscription_id: str) -> Any:
    return invalid(
        f"A canceled subscription can only update its cancellation_details and metadata. "
        f"{subscription_id} is canceled.",
        param="id",
    )


def get_subscription(store: Store, params: dict[str, Any], subscription_id: str) -> dict[str, Any]:
    subscription = found(store.subscriptions, subscription_id, "subscription")
    refresh(store, subscription)
    return subscription


def list_subscriptions(store: Store, params: dict[str, Any]) -> dict[str, Any]:
    """Stripe's default hides canceled subscriptions; ``status=all`` shows them."""
    customer, price = text(params, "customer"), text(params, "price")
    status = text(params, "status")
    if status is not None and status not in SUBSCRIPTION_STATUSES:
        raise invalid(f"Invalid status: {status}", param="status")
    chosen = [
        sub
        for sub in store.subscriptions.values()
        if (customer is None or sub["customer"] == customer)
        and (price is None or any(i["price"]["id"] == price for i in sub["items"]["data"]))
        and (sub["status"] != "canceled" if status is None else status in ("all", sub["status"]))
    ]
    for subscription in chosen:
        refresh(store, subscription)
    return page(chosen, params, "/v1/subscriptions", "subscription")


def search_subscriptions(store: Store, params: dict[str, Any]) -> dict[str, Any]:
    return metadata_search(list(store.subscriptions.values()), params, "/v1/subscriptions/search")


def cancel_subscription(
    store: Store, params: dict[str, Any], subscription_id: str
) -> dict[str, Any]:
    subscription = found(store.subscriptions, subscription_id, "subscription")
    if subscription["status"] == "canceled":
        raise _canceled(subscription_id)
    now = store.timestamp()
    subscription.update(status="canceled", canceled_at=now, ended_at=now)
    return subscription


ROUTES = [
    route("POST", "/v1/subscriptions", create_subscription, SubscriptionCreateParams),
    route("GET", "/v1/subscriptions/search", search_subscriptions, SubscriptionSearchParams),
    route("GET", "/v1/subscriptions", list_subscriptions, SubscriptionListParams),
    route("GET", "/v1/subscriptions/{id}", get_subscription, SubscriptionRetrieveParams),
    route("POST", "/v1/subscriptions/{id}", update_subscription, SubscriptionUpdateParams),
    route("DELETE", "/v1/subscriptions/{id}", cancel_subscription, SubscriptionCancelParams),
]
