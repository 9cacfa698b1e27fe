"""An admin of a tenant without a card adds one through Stripe Checkout (the fake's page),
makes a run, then opens the Billing Portal and returns, in a real browser."""

from typing import Any

import pytest

from billing.provisioning import stripe_provision
from billing.stripe_client import stripe_client
from billing.stripe_fake import StripeFake
from seedance.accounts.identity import verified_email_set
from seedance.models import Membership, Run, Tenant
from tests.billing.conftest import stripe_fake, stripe_fake_server  # noqa: F401  (fixtures)
from tests.browser.conftest import PASSWORD, screenshot, sign_in

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def founder(django_user_model: Any, stripe_fake: StripeFake) -> Any:  # noqa: F811
    tenant = Tenant.objects.create(slug="kiln", name="Kiln Films")
    stripe_provision(client=stripe_client(), tenants=[tenant])
    user = django_user_model.objects.create_user("kai", "kai@example.com", PASSWORD)
    verified_email_set(user=user, email="kai@example.com")  # allauth's mandatory verification
    Membership.objects.create(user=user, tenant=tenant, role=Membership.Role.ADMIN)
    return user


def test_add_a_card_through_checkout_make_a_run_then_visit_the_billing_portal_and_return(
    page: Any,
    live_server: Any,
    founder: Any,
    stripe_fake: StripeFake,  # noqa: F811
) -> None:
    sign_in(page, live_server.url, "kai")
    page.goto(f"{live_server.url}/runs/")
    page.click("#payment-method-notice >> text=Add a card")
    page.wait_for_url("**/manage/billing/")
    page.click("#add-card")
    page.wait_for_url(f"{stripe_fake.url}/c/pay/**")
    screenshot(page, "stripe-fake-checkout")
    page.click("text=Save test card (4242)")
    page.wait_for_url("**/manage/billing/")
    assert page.locator("#card-on-file").inner_text() == "Visa ending in 4242"
    assert page.locator("#payment-method-notice").count() == 0

    page.goto(f"{live_server.url}/runs/new/")
    page.fill("#run-prompt", "Steam rising from a cup on a windowsill, morning light")
    page.click("#run-submit")
    page.wait_for_url("**/runs/*/")
    assert Run.objects.filter(created_by=founder).count() == 1

    page.goto(f"{live_server.url}/manage/billing/")
    page.click("#manage-in-stripe")
    page.wait_for_url(f"{stripe_fake.url}/p/session/**")
    assert "visa •••• 4242" in page.content()
    screenshot(page, "stripe-fake-billing-portal")
    page.click("text=Return")
    page.wait_for_url("**/manage/billing/")
    assert page.locator("#card-on-file").is_visible()


def test_chromium_refuses_the_redirect_to_checkout_unless_the_billing_page_allows_stripe(
    page: Any,
    live_server: Any,
    founder: Any,
    stripe_fake: StripeFake,  # noqa: F811
) -> None:
    """Chromium checks a form's redirects against form-action: served without the Stripe
    origin billing's page adds, the same click never reaches Checkout."""

    def without_stripe(route: Any) -> None:
        response = route.fetch()
        policy = response.headers["content-security-policy"]
        assert f"form-action 'self' {stripe_fake.url}" in policy
        narrowed = policy.replace(f" {stripe_fake.url}", "")
        route.fulfill(
            response=response, headers={**response.headers, "content-security-policy": narrowed}
        )

    sign_in(page, live_server.url, "kai")
    page.route("**/manage/billing/", without_stripe)
    page.goto(f"{live_server.url}/manage/billing/")
    with page.expect_console_message(lambda message: "form-action" in message.text) as refused:
        page.click("#add-card")
    assert "Content Security Policy" in refused.value.text
    page.wait_for_load_state("load")
    assert not page.url.startswith(stripe_fake.url)
