"""Checkout Sessions in setup mode: a hosted page that saves a card for later payments.

Creating one makes its SetupIntent (``requires_payment_method``) and a ``url`` on the
fake's own server (``pages.py``). Completing it on that page is what changes anything:
the SetupIntent succeeds with a new PaymentMethod attached to the customer, the session is
``complete``, and Stripe's events follow. It does not set the customer's default payment
method: Stripe leaves that to the integration. Open sessions expire at ``expires_at``.
"""

from typing import Any

from stripe.params.checkout import (
    SessionCreateParams,
    SessionExpireParams,
    SessionListParams,
    SessionRetrieveParams,
)

from .events import emit
from .expand import expanded
from .forms import as_list, integer, invalid, metadata, text
from .payment_methods import attach, new_card, new_setup_intent
from .store import DAY, Store, found, new_id, page, route

MODES = ("payment", "setup", "subscription")
TEMPLATE = "{CHECKOUT_SESSION_ID}"
NOT_SUPPORTED = (
    "line_items",
    "subscription_data",
    "payment_intent_data",
    "discounts",
    "ui_mode",
    "customer_account",
)


def create_session(store: Store, params: dict[str, Any]) -> dict[str, Any]:
    mode = text(params, "mode", required=True)
    if mode not in MODES:
        raise invalid(f"Invalid mode: must be one of {', '.join(MODES)}", param="mode")
    if mode != "setup":
        raise invalid("The fake supports only mode=setup.", param="mode")
    for name in NOT_SUPPORTED:
        if name in params:
            raise invalid(f"The fake does not support {name}.", param=name)
    allowed = [str(kind) for kind in as_list(params, "allowed_payment_method_types")]
    currency = text(params, "currency")
    if currency is None and not allowed:
        raise invalid(
            "currency is required in setup mode when allowed_payment_method_types is not set.",
            param="currency",
        )
    if currency is not None and currency != currency.lower():
        raise invalid(f"Invalid currency: {currency}", param="currency")
    customer_id = text(params, "customer")
    if customer_id is not None:
        customer = found(store.customers, customer_id, "customer", param="customer", status=400)
        if customer.get("deleted"):
            raise invalid(f"No such customer: '{customer_id}'", param="customer")
    urls = {name: text(params, name) for name in ("success_url", "cancel_url")}
    for name, url in urls.items():
        if url is not None and not url.startswith(("http://", "https://")):
            raise invalid(f"Not a valid URL: {url}", param=name, code="url_invalid")
    now = store.timestamp()
    expires_at = _expiry(params, now)
    tags = metadata(params)
    intent = new_setup_intent(store, customer_id, {})
    session_id = new_id("cs_test", 58)
    session: dict[str, Any] = {
        "id": session_id,
        "object": "checkout.session",
        "allowed_payment_method_types": allowed or None,
        "cancel_url": urls["cancel_url"],
        "client_reference_id": text(params, "client_reference_id"),
        "created": now,
        "currency": currency,
        "customer": customer_id,
        "customer_email": text(params, "customer_email"),
        "expires_at": expires_at,
        "livemode": False,
        "metadata": tags,
        "mode": "setup",
        "payment_intent": None,
        "payment_method_types": allowed or ["card"],
        "payment_status": "no_payment_required",
        "setup_intent": intent["id"],
        "status": "open",
        "success_url": urls["success_url"],
        "ui_mode": "hosted_page",
        "url": f"{store.base_url}/c/pay/{session_id}",
    }
    store.checkout_sessions[session_id] = session
    return expanded(store, session, params)


def _expiry(params: dict[str, Any], now: int) -> int:
    raw = params.get("expires_at")
    if raw in (None, ""):
        return now + DAY
    expires_at = integer(raw, "expires_at")
    if not now + 30 * 60 <= expires_at <= now + DAY:
        raise invalid(
            "expires_at must be between 30 minutes and 24 hours from now.", param="expires_at"
        )
    return expires_at


def get_session(store: Store, params: dict[str, Any], session_id: str) -> dict[str, Any]:
    return expanded(store, found(store.checkout_sessions, session_id, "checkout.session"), params)


def list_sessions(store: Store, params: dict[str, Any]) -> dict[str, Any]:
    wanted = {name: text(params, name) for name in ("customer", "status", "setup_intent")}
    sessions = [
        s
        for s in store.checkout_sessions.values()
        if all(value is None or s[name] == value for name, value in wanted.items())
    ]
    return expanded(store, page(sessions, params, "/v1/checkout/sessions", "session"), params)


def expire_session(store: Store, params: dict[str, Any], session_id: str) -> dict[str, Any]:
    session = found(store.checkout_sessions, session_id, "checkout.session")
    if session["status"] != "open":
        raise invalid(
            "Only Checkout Sessions with a status of `open` can be expired.", param="session"
        )
    _expire(store, session)
    return expanded(store, session, params)


def _expire(store: Store, session: dict[str, Any]) -> None:
    session["status"] = "expired"
    session["url"] = None
    intent = store.setup_intents[session["setup_intent"]]
    intent.update(status="canceled", cancellation_reason="abandoned")
    emit(store, "checkout.session.expired", session)


def expire_due_sessions(store: Store) -> None:
    """Stripe's own clock: an open session past ``expires_at`` expires (and says so)."""
    now = store.now()
    for session in list(store.checkout_sessions.values()):
        if session["status"] == "open" and session["expires_at"] <= now:
            _expire(store, session)


def complete_session(store: Store, session: dict[str, Any], last4: str) -> dict[str, Any]:
    """What the hosted page does when the customer saves a card: the one way to complete."""
    if session["status"] != "open":
        raise invalid(f"This Checkout Session is {session['status']}.", param="session")
    intent = store.setup_intents[session["setup_intent"]]
    method = new_card(store, last4, email=session["customer_email"])
    if session["customer"] is not None:
        attach(store, method, session["customer"])
    intent.update(status="succeeded", payment_method=method["id"])
    session.update(status="complete", url=None)
    emit(store, "setup_intent.succeeded", intent)
    emit(store, "checkout.session.completed", session)
    return session


def success_redirect(session: dict[str, Any]) -> str | None:
    url = session["success_url"]
    return url.replace(TEMPLATE, session["id"]) if url else None


ROUTES = [
    route("POST", "/v1/checkout/sessions", create_session, SessionCreateParams),
    route("GET", "/v1/checkout/sessions", list_sessions, SessionListParams),
    route("GET", "/v1/checkout/sessions/{id}", get_session, SessionRetrieveParams),
    route("POST", "/v1/checkout/sessions/{id}/expire", expire_session, SessionExpireParams),
]
