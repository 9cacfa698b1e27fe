"""Customers: who is billed; a deleted one stays as a tombstone its meter events fail on."""

import re
from typing import Any

from stripe.params import (
    CustomerCreateParams,
    CustomerDeleteParams,
    CustomerListParams,
    CustomerRetrieveParams,
    CustomerSearchParams,
    CustomerUpdateParams,
)

from .events import emit
from .expand import expanded
from .forms import hash_, integer, invalid, metadata, text
from .store import Store, found, limit_of, new_id, page, route

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
SEARCH = re.compile(
    r"""^\s*metadata\[(['"])(?P<key>[^'"]+)\1\]\s*:\s*(['"])(?P<value>[^'"]*)\3\s*$"""
)


UPDATABLE = ("email", "name", "description", "phone", "metadata", "address", "invoice_settings")
INVOICE_SETTINGS = {
    "custom_fields": None,
    "default_payment_method": None,
    "footer": None,
    "rendering_options": None,
}
ADDRESS = ("city", "country", "line1", "line2", "postal_code", "state")


def _email(params: dict[str, Any]) -> str | None:
    email = text(params, "email")
    if email is not None and not EMAIL.match(email):
        raise invalid(f"Invalid email address: {email}", param="email", code="email_invalid")
    return email


def create_customer(store: Store, params: dict[str, Any]) -> dict[str, Any]:
    email = _email(params)
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
        "invoice_settings": dict(INVOICE_SETTINGS),
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
    return expanded(store, customer, params)


def update_customer(store: Store, params: dict[str, Any], customer_id: str) -> dict[str, Any]:
    """Email, name, address, metadata and the default payment method; ``customer.updated``
    carries the old values of what changed."""
    customer = found(store.customers, customer_id, "customer")
    if customer.get("deleted"):
        raise invalid(f"No such customer: '{customer_id}'", param="id", code="resource_missing")
    unsupported = sorted(set(params) - {*UPDATABLE, "expand"})
    if unsupported:
        raise invalid(f"The fake does not update {unsupported[0]}.", param=unsupported[0])
    changes: dict[str, Any] = {}
    if "email" in params:
        changes["email"] = _email(params)
    for name in ("name", "description", "phone"):
        if name in params:
            changes[name] = text(params, name)
    if "metadata" in params:
        merged = {**customer["metadata"], **hash_(params, "metadata")}
        changes["metadata"] = metadata({"metadata": merged})
    if "address" in params:
        raw = hash_(params, "address")
        changes["address"] = {key: text(raw, key) for key in ADDRESS} if raw else None
    if "invoice_settings" in params:
        changes["invoice_settings"] = _invoice_settings(store, customer, params)
    previous = {
        key: customer.get(key) for key, value in changes.items() if customer.get(key) != value
    }
    customer.update(changes)
    if previous:
        emit(store, "customer.updated", customer, previous)
    return expanded(store, customer, params)


def _invoice_settings(
    store: Store, customer: dict[str, Any], params: dict[str, Any]
) -> dict[str, Any]:
    raw = hash_(params, "invoice_settings")
    settings = dict(customer.get("invoice_settings") or INVOICE_SETTINGS)
    unsupported = sorted(set(raw) - {"default_payment_method"})
    if unsupported:
        param = f"invoice_settings[{unsupported[0]}]"
        raise invalid(f"The fake does not update {param}.", param=param)
    if "default_payment_method" in raw:
        method_id = text(raw, "default_payment_method")
        method = store.payment_methods.get(method_id) if method_id else None
        if method_id and (method is None or method["customer"] != customer["id"]):
            raise invalid(
                f"The customer does not have a payment method with the ID {method_id}. The "
                "payment method must be attached to the customer.",
                param="invoice_settings[default_payment_method]",
            )
        settings["default_payment_method"] = method_id
    return settings


ROUTES = [
    route("POST", "/v1/customers", create_customer, CustomerCreateParams),
    route("GET", "/v1/customers/search", search_customers, CustomerSearchParams),
    route("GET", "/v1/customers", list_customers, CustomerListParams),
    route("GET", "/v1/customers/{id}", get_customer, CustomerRetrieveParams),
    route("POST", "/v1/customers/{id}", update_customer, CustomerUpdateParams),
    route("DELETE", "/v1/customers/{id}", delete_customer, CustomerDeleteParams),
]
