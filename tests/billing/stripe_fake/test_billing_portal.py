"""The Billing Portal: configurations decide what a session's page offers; the page lists
invoices and cards, adds and removes cards, changes the email, and says so in events."""

import re
from typing import Any

import httpx
import pytest
import stripe

from billing.stripe_fake import StripeFake
from tests.billing.stripe_fake.conftest import Receiver, refusal
from tests.billing.stripe_fake.test_checkout import SECRET, save_card, setup_session, wait_for

FEATURES: dict[str, Any] = {
    "invoice_history": {"enabled": True},
    "payment_method_update": {"enabled": True},
    "customer_update": {"enabled": True, "allowed_updates": ["email", "address", "tax_id"]},
    "subscription_cancel": {"enabled": False},
    "subscription_update": {"enabled": False},
}


@pytest.fixture
def customer(client: stripe.StripeClient) -> str:
    return str(client.v1.customers.create(params={"name": "Acme", "email": "ap@acme.test"}).id)


@pytest.fixture
def configuration(client: stripe.StripeClient) -> str:
    made = client.v1.billing_portal.configurations.create(
        params={"features": FEATURES, "metadata": {"seedance_namespace": "t"}}  # type: ignore[typeddict-item]
    )
    return str(made.id)


def portal(client: stripe.StripeClient, customer: str, configuration: str) -> str:
    session = client.v1.billing_portal.sessions.create(
        params={
            "customer": customer,
            "configuration": configuration,
            "return_url": "https://app.example/billing",
        }
    )
    return str(session.url)


def press(url: str, action: str, **form: str) -> httpx.Response:
    """Submit the page's form whose action ends with ``action``."""
    page = httpx.get(url)
    found = re.search(rf'<form method="post" action="([^"]*/{action})"', page.text)
    assert found is not None, page.text
    return httpx.post(httpx.URL(url).join(found.group(1)), data=form)


def test_a_configuration_keeps_its_features_and_is_listed(
    client: stripe.StripeClient, configuration: str
) -> None:
    read = client.v1.billing_portal.configurations.retrieve(configuration)
    assert read.features.invoice_history.enabled
    assert read.features.payment_method_update.enabled
    assert read.features.customer_update.allowed_updates == ["email", "address", "tax_id"]
    assert not read.features.subscription_cancel.enabled
    assert not read.features.subscription_update.enabled
    assert read.metadata["seedance_namespace"] == "t"
    listed = client.v1.billing_portal.configurations.list(params={"active": True}).data
    assert [c.id for c in listed] == [configuration]


def test_a_configuration_needs_features_and_known_updates(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.billing_portal.configurations.create(params={})  # type: ignore[typeddict-item]
    assert refusal(caught.value)["param"] == "features"
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.billing_portal.configurations.create(
            params={"features": {"customer_update": {"enabled": True, "allowed_updates": ["shoe"]}}}
        )


def test_a_session_without_a_configuration_needs_a_default_one(
    client: stripe.StripeClient, customer: str
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.billing_portal.sessions.create(params={"customer": customer})
    assert "portal settings" in refusal(caught.value)["message"]


def test_the_portal_page_lists_cards_and_invoices_and_returns(
    client: stripe.StripeClient, customer: str, configuration: str
) -> None:
    url = portal(client, customer, configuration)
    page = httpx.get(url).text
    assert "No payment methods." in page
    assert "No invoices yet." in page
    assert 'href="https://app.example/billing">Return</a>' in page
    save_card(str(setup_session(client, customer).url))
    assert "visa •••• 4242" in httpx.get(url).text


def test_adding_a_card_makes_it_the_default_and_removing_it_clears_that(
    client: stripe.StripeClient,
    fake: StripeFake,
    customer: str,
    configuration: str,
    receiver: Receiver,
) -> None:
    fake.add_webhook_endpoint(receiver.url, SECRET)
    url = portal(client, customer, configuration)
    assert press(url, "cards", card="4242").status_code == 303
    method = client.v1.customers.retrieve(customer).invoice_settings.default_payment_method
    assert method is not None
    assert press(url, "detach", payment_method=str(method)).status_code == 303
    assert client.v1.customers.retrieve(customer).invoice_settings.default_payment_method is None
    fake.flush()
    wait_for(lambda: len(receiver.received) == 4)
    kinds = [
        stripe.Webhook.construct_event(body.decode(), header, SECRET).type
        for body, header in receiver.received
    ]
    # Stripe does not promise delivery order; each event says when it happened.
    assert sorted(kinds) == [
        "customer.updated",
        "customer.updated",
        "payment_method.attached",
        "payment_method.detached",
    ]


def test_the_email_changes_only_when_the_configuration_allows_it(
    client: stripe.StripeClient, customer: str, configuration: str
) -> None:
    url = portal(client, customer, configuration)
    assert press(url, "email", email="billing@acme.test").status_code == 303
    assert client.v1.customers.retrieve(customer).email == "billing@acme.test"
    assert press(url, "email", email="nope").status_code == 400
    closed = client.v1.billing_portal.configurations.create(
        params={"features": {"invoice_history": {"enabled": True}}}
    )
    locked = portal(client, customer, str(closed.id))
    assert "Update email" not in httpx.get(locked).text
    assert httpx.post(f"{locked}/email", data={"email": "x@acme.test"}).status_code == 403
    assert httpx.post(f"{locked}/cards", data={"card": "4242"}).status_code == 403
    assert client.v1.customers.retrieve(customer).email == "billing@acme.test"
