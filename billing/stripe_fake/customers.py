"""Customers: who is billed; a deleted one stays as a tombstone its meter events fail on."""

import re
from typing import Any

from stripe.params import (
    CustomerCreateParams,
    CustomerDeleteParams,
    CustomerListParams,
    CustomerRetrieveParams,
    CustomerSearchParams,
)

from .forms import integer, invalid, metadata, text
from .store import Store, found, limit_of, new_id, page, route

SEARCH = re.compile(
    r"""^\s*metadata\[(['"])(?P<key>[^'"]+)\1\]\s*:\s*(['"])(?P<value>[^'"]*)\3\s*$"""
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


def list_customers(store: Store, params: dict[str, Any]) -> dict[str, Any]:
    email = text(params, "email")
    customers = [c for c in store.customers.values() if email is None or c["email"] == email]
    return page(customers, params, "/v1/customers", "customer")


def search_customers(store: Store, params: dict[str, Any]) -> dict[str, Any]:
    live = [c for c in store.customers.values() if not c.get("deleted")]
    return metadata_search(live, params, "/v1/customers/search")


def metadata_search(
    objects: list[dict[str, Any]], params: dict[str, Any], url: str
) -> dict[str, Any]:
    """Only ``metadata['key']:'value'``; Stripe's search lags writes by up to a minute, not this."""
    query = text(params, "query", required=True) or ""
    match = SEARCH.match(query)
    if match is None:
        raise invalid(
            f"The fake supports only queries of the form metadata['key']:'value', not {query!r}.",
            param="query",
        )
    key, value = match.group("key"), match.group("value")
    hits = [obj for obj in objects if obj["metadata"].get(key) == value][::-1]
    limit = limit_of(params)
    offset = integer(params["page"], "page") if params.get("page") else 0
    more = len(hits) > offset + limit
    return {
        "object": "search_result",
        "data": hits[offset : offset + limit],
        "has_more": more,
        "next_page": str(offset + limit) if more else None,
        "url": url,
    }


def delete_customer(store: Store, params: dict[str, Any], customer_id: str) -> dict[str, Any]:
    """Stripe keeps a tombstone: retrieving it answers ``deleted: true``, events for it fail."""
    customer = found(store.customers, customer_id, "customer")
    customer["deleted"] = True
    return {"id": customer_id, "object": "customer", "deleted": True}


def get_customer(store: Store, params: dict[str, Any], customer_id: str) -> dict[str, Any]:
    customer = found(store.customers, customer_id, "customer")
    if customer.get("deleted"):
        return {"id": customer_id, "object": "customer", "deleted": True}
    return customer


ROUTES = [
    route("POST", "/v1/customers", create_customer, CustomerCreateParams),
    route("GET", "/v1/customers/search", search_customers, CustomerSearchParams),
    route("GET", "/v1/customers", list_customers, CustomerListParams),
    route("GET", "/v1/customers/{id}", get_customer, CustomerRetrieveParams),
    route("DELETE", "/v1/customers/{id}", delete_customer, CustomerDeleteParams),
]
