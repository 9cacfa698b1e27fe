"""Forms post only to us (form-action 'self'); the billing page alone lets its forms go on
to Stripe's hosted Checkout and Billing Portal, whose origins come from the settings.
tests/browser/test_billing_journeys.py follows those redirects in Chromium."""

from typing import Any

import pytest
from django.test import Client

from billing.conf import STRIPE_HOSTED_ORIGINS, stripe_hosted_origins
from billing.provisioning import stripe_provision
from billing.stripe_client import stripe_client
from billing.stripe_fake import StripeFake
from tests.billing.payments import admin_of, new_tenant


def directives(response: Any) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in policy.split(";"))


def test_with_stripe_itself_the_hosted_origins_are_checkout_and_the_billing_portal(
    settings: Any,
) -> None:
    settings.BILLING = {**settings.BILLING, "STRIPE_API_BASE": ""}
    assert stripe_hosted_origins() == [
        "https://checkout.stripe.com",
        "https://billing.stripe.com",
    ]
    assert tuple(stripe_hosted_origins()) == STRIPE_HOSTED_ORIGINS


def test_with_an_api_base_its_origin_serves_the_hosted_pages(settings: Any) -> None:
    settings.BILLING = {**settings.BILLING, "STRIPE_API_BASE": "http://127.0.0.1:12111/"}
    assert stripe_hosted_origins() == ["http://127.0.0.1:12111"]


@pytest.mark.django_db
def test_only_the_billing_page_lets_its_forms_go_on_to_stripe(
    stripe_fake: StripeFake, django_user_model: Any, client: Client
) -> None:
    tenant = new_tenant()
    stripe_provision(client=stripe_client(), tenants=[tenant])
    client.force_login(admin_of(tenant, django_user_model))
    billing = client.get("/manage/billing/")
    assert 'id="checkout-form"' in billing.content.decode()
    assert directives(billing)["form-action"] == f"'self' {stripe_fake.url}"
    assert directives(billing)["default-src"] == "'self'"
    for path in ("/runs/", "/manage/keys/", "/accounts/email/"):
        assert directives(client.get(path))["form-action"] == "'self'"


@pytest.mark.django_db
def test_the_billing_page_keeps_the_rest_of_the_policy(
    stripe_fake: StripeFake, django_user_model: Any, client: Client, settings: Any
) -> None:
    client.force_login(admin_of(new_tenant(), django_user_model))
    policy = directives(client.get("/manage/billing/"))
    policy.pop("form-action")
    expected = directives(client.get("/runs/"))
    expected.pop("form-action")
    assert policy == expected
