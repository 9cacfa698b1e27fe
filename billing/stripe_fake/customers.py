"""Customers and subscriptions: who is billed, and whether their meter events bill anyone."""

import calendar
import re
from datetime import UTC, datetime
from typing import Any

from stripe.params import (
    CustomerCreateParams,
    CustomerListParams,
    CustomerRetrieveParams,
    CustomerSearchParams,
    SubscriptionCancelParams,
    SubscriptionCreateParams,
    SubscriptionListParams,
    SubscriptionRetrieveParams,
)

from .forms import as_list, choice, integer, invalid, metadata, missing, text
from .store import DAY, Store, found, limit_of, new_id, page, route

SEARCH = re.compile(
    r"""^\s*metadata\[(['"])(?P<key>[^'"]+)\1\]\s*:\s*(['"])(?P<value>[^'"]*)\3\s*$"""
)
COLLECTION = ("charge_automatically", "send_invoice")
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


def create_customer(store: Store, params: dict[str, Any]) -> dict[str, Any]:
    email = text(params, "email")
    if email is not None and "@" not in email:
        raise invalid(f"Invalid email address: {email}", param="email", code="email_invalid")
    customer: dict[str, Any] = {
        "id": new_id("cus"),
        "object": "customer",
        "address": None,
        "balance": 0,
        "created": store.timestamp(),
        "currency": None,
        "default_source": None,
        "delinquent": False,
        "description": text(params, "description"),
        "email": email,
        "invoice_prefix": new_id("in")[3:11].upper(),
        "livemode": False,
        "metadata": metadata(params),
        "name": text(params, "name"),
        "phone": text(params, "phone"),
        "preferred_locales": [],
        "shipping": None,
        "tax_exempt": "none",
        "test_clock": None,
    }
    store.customers[customer["id"]] = customer
    return customer


def get_customer(store: Store, params: dict[str, Any], customer_id: str) -> dict[str, Any]:
    return found(store.customers, customer_id, "customer")


def list_customers(store: Store, params: dict[str, Any]) -> dict[str, Any]:
    email = text(params, "email")
    customers = [c for c in store.customers.values() if email is None or c["email"] == email]
    return page(customers, params, "/v1/customers", "customer")


def search_customers(store: Store, params: dict[str, Any]) -> dict[str, Any]:
    """Only ``metadata['key']:'value'``; Stripe's search lags writes by up to a minute, not this."""
    query = text(params, "query", required=True) or ""
    match = SEARCH.match(query)
    if match is None:
        raise invalid(
            f"The fake supports only queries of the form metadata['key']:'value', not {query!r}.",
            param="query",
        )
    key, value = match.group("key"), match.group("value")
    hits = [c for c in store.customers.values() if c["metadata"].get(key) == value][::-1]
    limit = limit_of(params)
    offset = integer(params["page"], "page") if params.get("page") else 0
    more = len(hits) > offset + limit
    return {
        "object": "search_result",
        "data": hits[offset : offset + limit],
        "has_more": more,
        "next_page": str(offset + limit) if more else None,
        "url": "/v1/customers/search",
    }


def create_subscription(store: Store, params: dict[str, Any]) -> dict[str, Any]:
    customer_id = text(params, "customer", required=True) or ""
    found(store.customers, customer_id, "customer", param="customer", status=400)
    raw_items = as_list(params, "items")
    if not raw_items:
        raise missing("items")
    now = store.timestamp()
    subscription_id = new_id("sub")
    items = [_item(store, raw, index, subscription_id, now) for index, raw in enumerate(raw_items)]
    prices = [item["price"] for item in items]
    if len({price["id"] for price in prices}) < len(prices):
        raise invalid("Cannot add multiple subscription items with the same price.", param="items")
    if len({price["currency"] for price in prices}) > 1:
        raise invalid("All prices on a subscription must have the same currency.", param="items")
    cycles = {(p["recurring"]["interval"], p["recurring"]["interval_count"]) for p in prices}
    if len(cycles) > 1:
        raise invalid(
            "All prices on a subscription must have the same recurring interval.", param="items"
        )
    subscription: dict[str, Any] = {
        "id": subscription_id,
        "object": "subscription",
        "billing_cycle_anchor": now,
        "cancel_at": None,
        "cancel_at_period_end": False,
        "canceled_at": None,
        "collection_method": choice(params, "collection_method", COLLECTION, COLLECTION[0]),
        "created": now,
        "currency": prices[0]["currency"],
        "customer": customer_id,
        "description": text(params, "description"),
        "ended_at": None,
        "items": {
            "object": "list",
            "data": items,
            "has_more": False,
            "total_count": len(items),
            "url": f"/v1/subscription_items?subscription={subscription_id}",
        },
        "latest_invoice": None,
        "livemode": False,
        "metadata": metadata(params),
        "start_date": now,
        "status": "active",
        "trial_end": None,
        "trial_start": None,
    }
    store.subscriptions[subscription_id] = subscription
    return subscription


def _item(store: Store, raw: Any, index: int, subscription_id: str, now: int) -> dict[str, Any]:
    name = f"items[{index}]"
    if not isinstance(raw, dict):
        raise invalid("Invalid hash", param=name)
    price_id = text(raw, "price")
    if price_id is None:
        raise missing(f"{name}[price]")
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
    recurring = price["recurring"]
    return {
        "id": new_id("si"),
        "object": "subscription_item",
        "created": now,
        "current_period_start": now,
        "current_period_end": period_end(now, recurring["interval"], recurring["interval_count"]),
        "metadata": metadata(raw),
        "price": dict(price),
        "quantity": quantity,
        "subscription": subscription_id,
    }


def period_end(start: int, interval: str, count: int) -> int:
    """Calendar arithmetic as Stripe bills: Jan 31 plus a month is Feb 28 (or 29)."""
    if interval in ("day", "week"):
        return start + count * DAY * (7 if interval == "week" else 1)
    moment = datetime.fromtimestamp(start, UTC)
    months = moment.month - 1 + count * (12 if interval == "year" else 1)
    year, month = moment.year + months // 12, months % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return int(moment.replace(year=year, month=month, day=day).timestamp())


def get_subscription(store: Store, params: dict[str, Any], subscription_id: str) -> dict[str, Any]:
    return found(store.subscriptions, subscription_id, "subscription")


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
    return page(chosen, params, "/v1/subscriptions", "subscription")


def cancel_subscription(
    store: Store, params: dict[str, Any], subscription_id: str
) -> dict[str, Any]:
    subscription = found(store.subscriptions, subscription_id, "subscription")
    if subscription["status"] == "canceled":
        raise invalid(
            f"A canceled subscription can only update its cancellation_details and metadata. "
            f"{subscription_id} is canceled.",
            param="id",
        )
    now = store.timestamp()
    subscription.update(status="canceled", canceled_at=now, ended_at=now)
    return subscription


ROUTES = [
    route("POST", "/v1/customers", create_customer, CustomerCreateParams),
    route("GET", "/v1/customers/search", search_customers, CustomerSearchParams),
    route("GET", "/v1/customers", list_customers, CustomerListParams),
    route("GET", "/v1/customers/{id}", get_customer, CustomerRetrieveParams),
    route("POST", "/v1/subscriptions", create_subscription, SubscriptionCreateParams),
    route("GET", "/v1/subscriptions", list_subscriptions, SubscriptionListParams),
    route("GET", "/v1/subscriptions/{id}", get_subscription, SubscriptionRetrieveParams),
    route("DELETE", "/v1/subscriptions/{id}", cancel_subscription, SubscriptionCancelParams),
]
