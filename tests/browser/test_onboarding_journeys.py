"""A visitor signs up, confirms their address, makes a tenant and sees its key once; an
invited person accepts in the browser and lands in the tenant."""

import re
from typing import Any

import pytest
from django.core import mail

from billing.provisioning import stripe_provision
from billing.stripe_client import stripe_client
from billing.stripe_fake import StripeFake
from seedance.models import ApiKey, Membership, Run, Tenant
from tests.billing.conftest import stripe_fake, stripe_fake_server  # noqa: F401  (fixtures)
from tests.browser.conftest import PASSWORD, screenshot, sign_in
from tests.factories import make_person

pytestmark = pytest.mark.django_db(transaction=True)


def link_in(body: str, path: str) -> str:
    found = re.search(rf"(http://[^\s]+{path}[^\s]*)", body)
    assert found is not None, body
    return found.group(1)


def sign_up_and_make_a_tenant(page: Any, live_server: Any, name: str) -> str:
    """Sign up, confirm the address from the outbox (which signs the person in), name a
    tenant on the page sign-in leads to: the key shown."""
    page.goto(f"{live_server.url}/accounts/signup/")
    page.fill("input[name=email]", f"{name}@example.com")
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    page.click("#signup-submit")
    page.wait_for_url("**/accounts/confirm-email/")
    confirm = link_in(mail.outbox[-1].body, "/accounts/confirm-email/")
    page.goto(confirm.replace("http://testserver", live_server.url))
    page.click("main button[type=submit]")
    page.wait_for_selector("#tenant-create-form")  # no tenant, no invitation: make one
    page.fill("#tenant-name", "Lumen Studio")
    page.click("#tenant-create-submit")
    return str(page.wait_for_selector("#new-api-key").inner_text().strip())


def test_a_visitor_signs_up_confirms_makes_a_tenant_and_sees_its_key_once(
    page: Any, live_server: Any
) -> None:
    secret = sign_up_and_make_a_tenant(page, live_server, "nia")
    screenshot(page, "onboarding-key-once")
    tenant = Tenant.objects.get(name="Lumen Studio")
    assert ApiKey.objects.get(tenant=tenant).prefix == secret.rsplit("_", 1)[0]

    page.reload()  # the browser resubmits the form: no second tenant, no key again
    page.wait_for_selector("#key-gone")
    assert secret not in page.content()
    assert Tenant.objects.count() == 1
    page.click("#onboarding-continue")
    page.wait_for_selector("#run-create-form")
    assert page.locator("#current-tenant").inner_text() == "Lumen Studio"


def test_after_sign_up_the_new_tenant_adds_a_card_makes_a_run_and_visits_the_billing_portal(
    page: Any,
    live_server: Any,
    stripe_fake: StripeFake,  # noqa: F811
) -> None:
    sign_up_and_make_a_tenant(page, live_server, "nadia")
    tenant = Tenant.objects.get(name="Lumen Studio")
    stripe_provision(client=stripe_client(), tenants=[tenant])  # the worker's job, done here
    page.wait_for_selector("#onboarding-add-card")
    screenshot(page, "onboarding-add-a-card")
    page.click("#onboarding-add-card")
    page.wait_for_url("**/manage/billing/")
    page.click("#add-card")
    page.wait_for_url(f"{stripe_fake.url}/c/pay/**")
    page.click("text=Save test card (4242)")
    page.wait_for_url("**/manage/billing/")
    assert page.locator("#card-on-file").inner_text() == "Visa ending in 4242"

    page.goto(f"{live_server.url}/runs/new/")
    page.fill("#run-prompt", "Steam rising from a cup on a windowsill, morning light")
    page.click("#run-submit")
    page.wait_for_url("**/runs/*/")
    assert Run.objects.filter(tenant=tenant).count() == 1

    page.goto(f"{live_server.url}/manage/billing/")
    page.click("#manage-in-stripe")
    page.wait_for_url(f"{stripe_fake.url}/p/session/**")
    assert "nadia@example.com" in page.content()  # the founder's address is the customer's
    page.click("text=Return")
    page.wait_for_url("**/manage/billing/")
    assert page.locator("#card-on-file").inner_text() == "Visa ending in 4242"


def test_an_invited_person_accepts_and_lands_in_the_tenant(page: Any, live_server: Any) -> None:
    tenant = Tenant.objects.create(slug="orbit", name="Orbit Apps")
    admin = make_person("ada", "ada@example.com", PASSWORD)
    Membership.objects.create(user=admin, tenant=tenant, role=Membership.Role.ADMIN)
    invitee = make_person("bo", "bo@example.com", PASSWORD)

    sign_in(page, live_server.url, "ada")
    page.goto(f"{live_server.url}/manage/members/")
    page.fill("#invite-email", "bo@example.com")
    page.click("#invite-form [type=submit]")
    page.wait_for_selector("tr[data-invitation='bo@example.com']")
    assert not Membership.objects.filter(user=invitee).exists()
    # The link is built on PUBLIC_BASE_URL, which the tests set to http://testserver.
    link = link_in(mail.outbox[-1].body, "/invitations/").replace(
        "http://testserver", live_server.url
    )
    page.context.clear_cookies()

    page.goto(link)
    page.wait_for_selector("#sign-in-to-accept")
    page.click("#invitation-sign-in")
    page.fill("input[name=login]", "bo")
    page.fill("input[name=password]", PASSWORD)
    page.click("form [type=submit]")
    page.wait_for_selector("#accept-invitation")
    screenshot(page, "invitation-accept")
    page.click("#accept-invitation")
    page.wait_for_url("**/runs/")
    assert page.locator("#current-tenant").inner_text() == "Orbit Apps"
    assert Membership.objects.get(user=invitee).joined_via == "invitation"
