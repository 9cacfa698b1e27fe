"""Checkout in setup mode, SetupIntents and PaymentMethods, through the real SDK and the
fake's hosted page: only completing the page saves a card, and Stripe's events follow."""

import json
import re
import time
from typing import Any

import httpx
import pytest
import stripe

from billing.stripe_fake import StripeFake
from tests.billing.stripe_fake.conftest import Clock, Receiver, refusal

SECRET = "whsec_snapshot_test"
SUCCESS = "https://app.example/billing/done?session_id={CHECKOUT_SESSION_ID}"


@pytest.fixture
def customer(client: stripe.StripeClient) -> str:
    return str(client.v1.customers.create(params={"name": "Acme", "email": "ap@acme.test"}).id)


def setup_session(client: stripe.StripeClient, customer: str, **extra: Any) -> Any:
    params: dict[str, Any] = {
        "mode": "setup",
        "currency": "usd",
        "customer": customer,
        "success_url": SUCCESS,
        "cancel_url": "https://app.example/billing",
        "metadata": {"seedance_tenant": "t-1"},
        **extra,
    }
    return client.v1.checkout.sessions.create(params=params)


def save_card(url: str) -> httpx.Response:
    """What a person does on the hosted page: follow its form's action with its button."""
    page = httpx.get(url)
    action = re.search(r'<form method="post" action="([^"]+)"', page.text)
    assert action is not None
    assert "Save test card (4242)" in page.text
    return httpx.post(httpx.URL(url).join(action.group(1)), data={"card": "4242"})


def wait_for(condition: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "never happened"
        time.sleep(0.02)


def test_setup_mode_without_currency_or_allowed_types_is_refused(
    client: stripe.StripeClient, customer: str
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.checkout.sessions.create(params={"mode": "setup", "customer": customer})
    assert refusal(caught.value)["param"] == "currency"
    allowed = client.v1.checkout.sessions.create(
        params={"mode": "setup", "customer": customer, "allowed_payment_method_types": ["card"]}
    )
    assert allowed.status == "open"


def test_an_unknown_customer_or_param_is_refused_as_stripe_refuses_it(
    client: stripe.StripeClient,
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        setup_session(client, "cus_nobody")
    assert refusal(caught.value)["code"] == "resource_missing"
    with pytest.raises(stripe.InvalidRequestError) as unknown:
        client.v1.checkout.sessions.create(
            params={"mode": "setup", "currency": "usd", "colour": "red"}  # type: ignore[typeddict-unknown-key]
        )
    assert refusal(unknown.value)["code"] == "parameter_unknown"


def test_a_new_session_is_open_with_a_setup_intent_waiting_for_a_card(
    client: stripe.StripeClient, customer: str
) -> None:
    session = setup_session(client, customer)
    assert session.url
    assert session.url.endswith(session.id)
    assert (session.mode, session.status, session.payment_status) == (
        "setup",
        "open",
        "no_payment_required",
    )
    intent = client.v1.setup_intents.retrieve(str(session.setup_intent))
    assert (intent.status, intent.payment_method, intent.customer) == (
        "requires_payment_method",
        None,
        customer,
    )
    assert client.v1.customers.payment_methods.list(customer).data == []


def test_saving_the_test_card_completes_the_session_and_redirects_to_success(
    client: stripe.StripeClient, customer: str
) -> None:
    session = setup_session(client, customer)
    answer = save_card(str(session.url))
    assert answer.status_code == 303
    assert answer.headers["location"] == SUCCESS.replace("{CHECKOUT_SESSION_ID}", session.id)

    done = client.v1.checkout.sessions.retrieve(
        session.id, params={"expand": ["setup_intent.payment_method"]}
    )
    assert done.status == "complete"
    intent: Any = done.setup_intent
    assert intent.status == "succeeded"
    assert (intent.payment_method.card.brand, intent.payment_method.card.last4) == ("visa", "4242")
    assert intent.payment_method.customer == customer
    listed = client.v1.customers.payment_methods.list(customer).data
    assert [m.id for m in listed] == [intent.payment_method.id]
    # Checkout saves the card; making it the default for invoices is the integration's job.
    assert client.v1.customers.retrieve(customer).invoice_settings.default_payment_method is None


def test_a_completed_or_expired_session_cannot_be_completed_again(
    client: stripe.StripeClient, customer: str
) -> None:
    session = setup_session(client, customer)
    save_card(str(session.url))
    again = httpx.post(str(session.url), data={"card": "4242"})
    assert again.status_code == 400
    assert len(client.v1.payment_methods.list(params={"customer": customer}).data) == 1

    other = setup_session(client, customer)
    expired = client.v1.checkout.sessions.expire(other.id)
    assert (expired.status, expired.url) == ("expired", None)
    assert httpx.post(str(other.url), data={"card": "4242"}).status_code == 400
    assert client.v1.setup_intents.retrieve(str(other.setup_intent)).status == "canceled"


def test_an_open_session_expires_at_its_expires_at(
    client: stripe.StripeClient, customer: str, clock: Clock
) -> None:
    session = setup_session(client, customer, expires_at=int(clock.now) + 1800)
    clock.now += 1801
    assert client.v1.checkout.sessions.retrieve(session.id).status == "expired"


def test_a_default_payment_method_must_be_attached_to_the_customer(
    client: stripe.StripeClient, customer: str
) -> None:
    other = str(client.v1.customers.create(params={"name": "Other"}).id)
    session = setup_session(client, other)
    save_card(str(session.url))
    method = client.v1.payment_methods.list(params={"customer": other}).data[0].id
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.customers.update(
            customer, params={"invoice_settings": {"default_payment_method": method}}
        )
    assert refusal(caught.value)["param"] == "invoice_settings[default_payment_method]"
    updated = client.v1.customers.update(
        other,
        params={
            "invoice_settings": {"default_payment_method": method},
            "expand": ["invoice_settings.default_payment_method"],
        },
    )
    assert updated.invoice_settings.default_payment_method.card.last4 == "4242"  # type: ignore[union-attr]


def test_detaching_the_default_clears_it_and_a_detached_method_cannot_be_detached_again(
    client: stripe.StripeClient, customer: str
) -> None:
    save_card(str(setup_session(client, customer).url))
    method = client.v1.customers.payment_methods.list(customer).data[0].id
    client.v1.customers.update(
        customer, params={"invoice_settings": {"default_payment_method": method}}
    )
    detached = client.v1.payment_methods.detach(method)
    assert detached.customer is None
    assert client.v1.customers.retrieve(customer).invoice_settings.default_payment_method is None
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_methods.detach(method)


def test_an_invalid_customer_email_is_refused_and_changes_nothing(
    client: stripe.StripeClient, customer: str
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.customers.update(customer, params={"email": "not-an-email"})
    assert refusal(caught.value)["code"] == "email_invalid"
    assert client.v1.customers.retrieve(customer).email == "ap@acme.test"


def test_completing_checkout_sends_stripes_snapshot_events_signed_after_the_answer(
    client: stripe.StripeClient, fake: StripeFake, customer: str, receiver: Receiver
) -> None:
    fake.add_webhook_endpoint(receiver.url, SECRET)
    session = setup_session(client, customer)
    save_card(str(session.url))
    fake.flush()
    wait_for(lambda: len(receiver.received) == 3)
    events = {}
    for body, header in receiver.received:
        event = stripe.Webhook.construct_event(body.decode(), header, SECRET)
        events[event.type] = event
    assert sorted(events) == [
        "checkout.session.completed",
        "payment_method.attached",
        "setup_intent.succeeded",
    ]
    completed = events["checkout.session.completed"].data.object
    assert (completed.id, completed.status, completed.metadata["seedance_tenant"]) == (
        session.id,
        "complete",
        "t-1",
    )
    attached = events["payment_method.attached"]
    assert json.loads(str(attached))["data"]["object"]["customer"] == customer
    completed_id = events["checkout.session.completed"].id
    assert client.v1.events.retrieve(completed_id).type == "checkout.session.completed"


def test_an_endpoint_gets_only_the_events_it_enabled_and_its_secret_only_once(
    client: stripe.StripeClient, fake: StripeFake, customer: str, receiver: Receiver
) -> None:
    endpoint = client.v1.webhook_endpoints.create(
        params={"url": receiver.url, "enabled_events": ["customer.updated"]}
    )
    assert endpoint.secret
    assert endpoint.secret.startswith("whsec_")
    assert getattr(client.v1.webhook_endpoints.retrieve(endpoint.id), "secret", None) is None
    save_card(str(setup_session(client, customer).url))
    client.v1.customers.update(customer, params={"email": "billing@acme.test"})
    fake.flush()
    wait_for(lambda: len(receiver.received) == 1)
    event = stripe.Webhook.construct_event(
        receiver.received[0][0].decode(), receiver.received[0][1], endpoint.secret
    )
    assert event.type == "customer.updated"
    assert event.data.previous_attributes["email"] == "ap@acme.test"
