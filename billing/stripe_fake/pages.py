"""The hosted pages behind a Checkout Session's and a Billing Portal session's ``url``.

Small HTML forms a person (or a test following links and forms) goes through, standing in
for checkout.stripe.com and billing.stripe.com. Only these pages change payment methods,
as on Stripe, where card numbers never pass through the integration's server; what they
change is announced by the same snapshot events Stripe sends, delivered after the answer.
"""

from dataclasses import dataclass, field
from html import escape
from typing import Any
from urllib.parse import parse_qsl

from . import checkout, payment_methods
from .events import emit
from .forms import ApiError
from .store import Store

CHECKOUT = "/c/pay/"
PORTAL = "/p/session/"
PREFIXES = (CHECKOUT, PORTAL)
STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem}"
    "table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:.3rem}"
    "form{display:inline}button{margin:.2rem 0}.muted{color:#666}"
)


@dataclass(frozen=True)
class Page:
    status: int
    html: str
    headers: dict[str, str] = field(default_factory=dict)


def respond(store: Store, method: str, path: str, body: bytes) -> Page:
    """Serve one page or form post; call under the store lock."""
    try:
        return _route(store, method, path, body)
    except ApiError as exc:
        return Page(exc.status, _html("Error", f"<p>{escape(str(exc))}</p>"))


def _route(store: Store, method: str, path: str, body: bytes) -> Page:
    form = dict(parse_qsl(body.decode("utf-8", "replace"))) if method == "POST" else {}
    if path.startswith(CHECKOUT):
        session = _get(store.checkout_sessions, path[len(CHECKOUT) :], "Checkout Session")
        if method == "POST":
            checkout.complete_session(store, session, _test_card(form))
            target = checkout.success_redirect(session) or path
            return Page(303, "", {"Location": target})
        return Page(200, _checkout_page(session))
    session_id, _, action = path[len(PORTAL) :].partition("/")
    session = _get(store.portal_sessions, session_id, "Billing Portal session")
    if method == "POST":
        _portal_action(store, session, action, form)
        return Page(303, "", {"Location": f"{PORTAL}{session_id}"})
    return Page(200, _portal_page(store, session))


def _get(table: dict[str, dict[str, Any]], object_id: str, kind: str) -> dict[str, Any]:
    obj = table.get(object_id)
    if obj is None:
        raise ApiError(404, f"No such {kind}: {object_id}")
    return obj


def _test_card(form: dict[str, str]) -> str:
    last4 = form.get("card", "")
    if last4 not in payment_methods.TEST_CARDS:
        raise ApiError(400, f"Not a test card: {last4!r}")
    return last4


def _checkout_page(session: dict[str, Any]) -> str:
    status = session["status"]
    if status != "open":
        back = checkout.success_redirect(session) if status == "complete" else None
        link = f'<p><a href="{escape(back)}">Continue</a></p>' if back else ""
        return _html("Checkout", f"<p>This Checkout Session is {escape(status)}.</p>{link}")
    cancel = session["cancel_url"]
    body = (
        "<h1>Save a card for future payments</h1>"
        f'<p class="muted">Checkout Session {escape(session["id"])} (setup mode, '
        f"{escape(session['currency'] or 'any currency')})</p>"
        f'<form method="post" action="{CHECKOUT}{escape(session["id"])}">'
        '<button type="submit" name="card" value="4242">Save test card (4242)</button></form>'
        + (f' <p><a href="{escape(cancel)}">Cancel and go back</a></p>' if cancel else "")
    )
    return _html("Checkout", body)


def _features(store: Store, session: dict[str, Any]) -> dict[str, Any]:
    return dict(store.portal_configurations[session["configuration"]]["features"])


def _portal_action(
    store: Store, session: dict[str, Any], action: str, form: dict[str, str]
) -> None:
    features = _features(store, session)
    customer = store.customers[session["customer"]]
    if action in ("cards", "detach") and not features["payment_method_update"]["enabled"]:
        raise ApiError(403, "Payment method updates are off in this portal configuration.")
    if action == "cards":
        method = payment_methods.new_card(store, _test_card(form), email=customer["email"])
        payment_methods.attach(store, method, customer["id"])
        _set_default(store, customer, method["id"])
    elif action == "detach":
        method = _get(store.payment_methods, form.get("payment_method", ""), "PaymentMethod")
        if method["customer"] != customer["id"]:
            raise ApiError(404, "No such PaymentMethod for this customer.")
        payment_methods.detach(store, method)
    elif action == "email":
        update = features["customer_update"]
        if not update["enabled"] or "email" not in update["allowed_updates"]:
            raise ApiError(403, "Email updates are off in this portal configuration.")
        email = form.get("email", "").strip()
        if "@" not in email or "." not in email.rpartition("@")[2]:
            raise ApiError(400, f"Invalid email address: {email}")
        if email != customer["email"]:
            previous = {"email": customer["email"]}
            customer["email"] = email
            emit(store, "customer.updated", customer, previous)
    else:
        raise ApiError(404, f"No such action: {action}")


def _set_default(store: Store, customer: dict[str, Any], method_id: str) -> None:
    """The portal makes a newly added card the default, as Stripe's does."""
    settings = dict(customer.get("invoice_settings") or {})
    previous = {"invoice_settings": dict(settings)}
    settings["default_payment_method"] = method_id
    customer["invoice_settings"] = settings
    emit(store, "customer.updated", customer, previous)


def _portal_page(store: Store, session: dict[str, Any]) -> str:
    features = _features(store, session)
    customer = store.customers[session["customer"]]
    action = f"{PORTAL}{escape(session['id'])}"
    parts = [f"<h1>Billing for {escape(customer.get('name') or customer['id'])}</h1>"]
    email = escape(customer["email"] or "none")
    parts.append(f"<p>Billing email: <span id=email>{email}</span></p>")
    update = features["customer_update"]
    if update["enabled"] and "email" in update["allowed_updates"]:
        parts.append(
            f'<form method="post" action="{action}/email"><label>New email '
            '<input type="email" name="email" required></label>'
            '<button type="submit">Update email</button></form>'
        )
    if features["payment_method_update"]["enabled"]:
        default = (customer.get("invoice_settings") or {}).get("default_payment_method")
        rows = [
            f"<tr><td>{escape(m['card']['brand'])} •••• {escape(m['card']['last4'])}</td>"
            f"<td>{'Default' if m['id'] == default else ''}</td><td>"
            f'<form method="post" action="{action}/detach">'
            f'<input type="hidden" name="payment_method" value="{escape(m["id"])}">'
            f'<button type="submit">Remove {escape(m["card"]["last4"])}</button></form></td></tr>'
            for m in store.payment_methods.values()
            if m["customer"] == customer["id"]
        ]
        parts.append("<h2>Payment methods</h2>")
        parts.append(f"<table>{''.join(rows)}</table>" if rows else "<p>No payment methods.</p>")
        parts.append(
            f'<form method="post" action="{action}/cards">'
            '<button type="submit" name="card" value="4242">Add test card (4242)</button></form>'
        )
    if features["invoice_history"]["enabled"]:
        invoices = [i for i in store.invoices.values() if i.get("customer") == customer["id"]]
        rows = [
            f"<tr><td>{escape(str(i.get('number') or i['id']))}</td>"
            f"<td>{escape(str(i['status']))}</td>"
            f"<td>{i['total'] / 100:.2f} {escape(str(i['currency']).upper())}</td></tr>"
            for i in invoices[::-1]
        ]
        parts.append("<h2>Invoice history</h2>")
        parts.append(f"<table>{''.join(rows)}</table>" if rows else "<p>No invoices yet.</p>")
    if session["return_url"]:
        parts.append(f'<p><a href="{escape(session["return_url"])}">Return</a></p>')
    return _html("Billing", "".join(parts))


def _html(title: str, body: str) -> str:
    return (
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{escape(title)} · "
        f"Stripe fake</title><style>{STYLE}</style></head><body>{body}</body></html>"
    )
