"""SetupIntents and PaymentMethods: what a completed Checkout in setup mode leaves behind.

Cards are made only by the fake's own pages (Checkout, the Billing Portal), as on Stripe,
where card numbers never reach the API from a server. A PaymentMethod is attached to at
most one customer; detaching it clears the customer's default if it was that one.
"""

from datetime import UTC, datetime
from typing import Any

from stripe.params import (
    CustomerPaymentMethodListParams,
    PaymentMethodDetachParams,
    PaymentMethodListParams,
    PaymentMethodRetrieveParams,
    SetupIntentRetrieveParams,
)

from .events import emit
from .expand import expanded
from .forms import invalid, text
from .store import Store, found, new_id, page, route

TEST_CARDS = {"4242": ("visa", "credit"), "4444": ("mastercard", "credit")}


def new_setup_intent(store: Store, customer_id: str | None, metadata: dict[str, str]) -> Any:
    intent: dict[str, Any] = {
        "id": new_id("seti", 24),
        "object": "setup_intent",
        "application": None,
        "cancellation_reason": None,
        "client_secret": None,
        "created": store.timestamp(),
        "customer": customer_id,
        "description": None,
        "last_setup_error": None,
        "livemode": False,
        "metadata": metadata,
        "next_action": None,
        "payment_method": None,
        "payment_method_types": ["card"],
        "status": "requires_payment_method",
        "usage": "off_session",
    }
    intent["client_secret"] = f"{intent['id']}_secret_{new_id('x', 24)[2:]}"
    store.setup_intents[intent["id"]] = intent
    return intent


def new_card(store: Store, last4: str, *, email: str | None = None) -> dict[str, Any]:
    """A test card, like one typed into Stripe's hosted form."""
    brand, funding = TEST_CARDS.get(last4, ("visa", "credit"))
    year = datetime.fromtimestamp(store.now(), UTC).year + 3
    method: dict[str, Any] = {
        "id": new_id("pm", 24),
        "object": "payment_method",
        "allow_redisplay": "always",
        "billing_details": {"address": None, "email": email, "name": None, "phone": None},
        "card": {
            "brand": brand,
            "checks": {"address_line1_check": None, "cvc_check": "pass"},
            "country": "US",
            "display_brand": brand,
            "exp_month": 12,
            "exp_year": year,
            "funding": funding,
            "last4": last4,
            "networks": {"available": [brand], "preferred": None},
            "wallet": None,
        },
        "created": store.timestamp(),
        "customer": None,
        "livemode": False,
        "metadata": {},
        "type": "card",
    }
    store.payment_methods[method["id"]] = method
    return method


def attach(store: Store, method: dict[str, Any], customer_id: str) -> None:
    method["customer"] = customer_id
    emit(store, "payment_method.attached", method)


def detach(store: Store, method: dict[str, Any]) -> dict[str, Any]:
    """Detach, and clear the customer's default when it was this one (``customer.updated``)."""
    customer_id = method["customer"]
    if customer_id is None:
        raise invalid(
            "The payment method you provided is not attached to a customer so detachment is "
            "impossible.",
            param="payment_method",
        )
    method["customer"] = None
    emit(store, "payment_method.detached", method, {"customer": customer_id})
    customer = store.customers.get(customer_id)
    settings = customer.get("invoice_settings") if customer else None
    if customer is not None and settings and settings.get("default_payment_method") == method["id"]:
        old = dict(settings)
        settings["default_payment_method"] = None
        emit(store, "customer.updated", customer, {"invoice_settings": old})
    return method


def get_setup_intent(store: Store, params: dict[str, Any], intent_id: str) -> dict[str, Any]:
    return expanded(store, found(store.setup_intents, intent_id, "setup_intent"), params)


def get_payment_method(store: Store, params: dict[str, Any], method_id: str) -> dict[str, Any]:
    return expanded(store, found(store.payment_methods, method_id, "payment_method"), params)


def list_payment_methods(store: Store, params: dict[str, Any]) -> dict[str, Any]:
    customer_id = text(params, "customer")
    if customer_id is not None:
        found(store.customers, customer_id, "customer", param="customer", status=400)
    return _list(store, params, customer_id, "/v1/payment_methods")


def list_customer_payment_methods(
    store: Store, params: dict[str, Any], customer_id: str
) -> dict[str, Any]:
    found(store.customers, customer_id, "customer")
    return _list(store, params, customer_id, f"/v1/customers/{customer_id}/payment_methods")


def _list(store: Store, params: dict[str, Any], customer_id: str | None, url: str) -> Any:
    kind = text(params, "type")
    methods = [
        m
        for m in store.payment_methods.values()
        if m["customer"] is not None
        and (customer_id is None or m["customer"] == customer_id)
        and (kind is None or m["type"] == kind)
    ]
    return expanded(store, page(methods, params, url, "payment_method"), params)


def detach_payment_method(store: Store, params: dict[str, Any], method_id: str) -> dict[str, Any]:
    return detach(store, found(store.payment_methods, method_id, "payment_method"))


ROUTES = [
    route("GET", "/v1/setup_intents/{id}", get_setup_intent, SetupIntentRetrieveParams),
    route("GET", "/v1/payment_methods", list_payment_methods, PaymentMethodListParams),
    route("GET", "/v1/payment_methods/{id}", get_payment_method, PaymentMethodRetrieveParams),
    route(
        "POST", "/v1/payment_methods/{id}/detach", detach_payment_method, PaymentMethodDetachParams
    ),
    route(
        "GET",
        "/v1/customers/{id}/payment_methods",
        list_customer_payment_methods,
        CustomerPaymentMethodListParams,
    ),
]
