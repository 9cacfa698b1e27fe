"""The whole card flow over real HTTP: our live server, the Stripe fake's pages, and the
signed events the fake sends back to our webhook, as a browser and Stripe would see it."""

import re
from typing import Any

import httpx
import pytest
from django.test import Client

from billing.models import TenantBilling
from billing.provisioning import stripe_provision
from billing.stripe_client import stripe_client
from billing.stripe_fake import StripeFake
from seedance.models import Tenant
from tests.billing.payments import admin_of, form_action, new_tenant, wait_for

SECRET = "whsec_flow_test"


@pytest.fixture
def hooked(stripe_fake: StripeFake, live_server: Any, settings: Any) -> StripeFake:
    """The fake sends its snapshot events to our live webhook, signed with our secret."""
    settings.BILLING = {**settings.BILLING, "STRIPE_WEBHOOK_SECRETS": [SECRET]}
    stripe_fake.add_webhook_endpoint(f"{live_server.url}/hooks/stripe/", SECRET)
    return stripe_fake


def browser_for(user: Any, live_server: Any) -> httpx.Client:
    """An HTTP client signed in as ``user`` on the live server, following nothing itself."""
    client = Client()
    client.force_login(user)
    cookies = {"sessionid": client.cookies["sessionid"].value}
    return httpx.Client(base_url=live_server.url, cookies=cookies, timeout=10)


def submit(browser: httpx.Client, page_url: str, action: str, **data: str) -> httpx.Response:
    """Press the button of the form posting to ``action`` on our page, CSRF token included."""
    page = browser.get(page_url)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert token is not None
    assert f'action="{action}"' in page.text
    return browser.post(action, data={"csrfmiddlewaretoken": token.group(1), **data})


def card_of(tenant: Tenant) -> tuple[str, str]:
    billing = TenantBilling.objects.get(pk=tenant.pk)
    return billing.payment_method_brand, billing.payment_method_last4


@pytest.mark.django_db(transaction=True)
def test_a_card_added_through_checkout_and_removed_in_the_portal_follows_stripes_events(
    hooked: StripeFake, live_server: Any, django_user_model: Any
) -> None:
    tenant = new_tenant()
    stripe_provision(client=stripe_client(), tenants=[tenant])
    browser = browser_for(admin_of(tenant, django_user_model), live_server)

    to_checkout = submit(browser, "/manage/billing/", "/manage/billing/checkout/")
    assert to_checkout.status_code == 302
    checkout_page = to_checkout.headers["location"]
    assert checkout_page.startswith(hooked.url)
    page = httpx.get(checkout_page).text
    assert "Cancel and go back" in page
    back = httpx.post(
        httpx.URL(checkout_page).join(form_action(page, checkout_page.rpartition("/")[2])),
        data={"card": "4242"},
    )
    success = back.headers["location"]
    assert success.startswith(f"{live_server.url}/manage/billing/checkout/done/?session_id=cs_")

    # Stripe's checkout.session.completed reaches our webhook before the admin comes back.
    wait_for(lambda: card_of(tenant) == ("visa", "4242"), what="checkout.session.completed")
    shown = browser.get(success, follow_redirects=True).text
    assert "Visa ending in 4242" in shown
    assert "Replace card" in shown

    to_portal = submit(browser, "/manage/billing/", "/manage/billing/portal/")
    portal = to_portal.headers["location"]
    assert portal.startswith(hooked.url)
    portal_page = httpx.get(portal).text
    assert f'href="{live_server.url}/manage/billing/">Return</a>' in portal_page
    assert "visa •••• 4242" in portal_page

    method = TenantBilling.objects.get(pk=tenant.pk).payment_method_id
    httpx.post(f"{portal}/detach", data={"payment_method": method})
    wait_for(lambda: card_of(tenant) == ("", ""), what="payment_method.detached")
    httpx.post(f"{portal}/email", data={"email": "ap@initech.test"})
    wait_for(
        lambda: TenantBilling.objects.get(pk=tenant.pk).billing_email == "ap@initech.test",
        what="customer.updated",
    )
    returned = browser.get(f"{live_server.url}/manage/billing/")
    assert 'id="no-card"' in returned.text
    assert 'value="ap@initech.test"' in returned.text


@pytest.mark.django_db(transaction=True)
def test_canceling_checkout_comes_back_with_no_card(
    hooked: StripeFake, live_server: Any, django_user_model: Any
) -> None:
    tenant = new_tenant()
    stripe_provision(client=stripe_client(), tenants=[tenant])
    browser = browser_for(admin_of(tenant, django_user_model), live_server)
    checkout_page = submit(browser, "/manage/billing/", "/manage/billing/checkout/").headers[
        "location"
    ]
    cancel = re.search(r'<a href="([^"]+)">Cancel and go back</a>', httpx.get(checkout_page).text)
    assert cancel is not None
    page = browser.get(cancel.group(1)).text
    assert "Checkout was canceled: no card was saved." in page
    hooked.flush()
    assert card_of(tenant) == ("", "")
