"""A tenant admin adds a webhook endpoint in a real browser, copies its secret with the
button, and sees the test event their receiver verified with it in the delivery log."""

from typing import Any

import pytest

from seedance.accounts.identity import verified_email_set
from seedance.models import Membership, Tenant, WebhookDelivery
from tests.browser.conftest import PASSWORD, screenshot, sign_in
from tests.browser.test_content_security_policy import RECORD_VIOLATIONS
from tests.seedance.webhooks import conftest as webhooks_conftest
from tests.seedance.webhooks.conftest import ReceiverServer, deliver_due

pytestmark = pytest.mark.django_db(transaction=True)

#: The webhooks suite's loopback receiver, which the outbound guard lets these tests reach.
receiver = webhooks_conftest.receiver


@pytest.fixture
def admin(django_user_model: Any) -> Any:
    tenant = Tenant.objects.create(slug="lumen", name="Lumen Studio")
    user = django_user_model.objects.create_user("maya", "maya@example.com", PASSWORD)
    verified_email_set(user=user, email="maya@example.com")
    Membership.objects.create(user=user, tenant=tenant, role=Membership.Role.ADMIN)
    return user


def test_add_an_endpoint_copy_its_secret_and_see_a_verified_test_delivery(
    page: Any, live_server: Any, admin: Any, receiver: ReceiverServer
) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page.add_init_script(RECORD_VIOLATIONS)
    sign_in(page, live_server.url, "maya")
    page.goto(f"{live_server.url}/manage/webhooks/")
    page.fill("#webhook-url", receiver.url)
    page.check("input[name=events][value='run.succeeded']")
    page.fill("#webhook-description", "Local receiver")
    page.click("#create-webhook-form button[type=submit]")

    shown = page.locator("#new-webhook-secret").inner_text().strip()
    assert shown.startswith("whsec_")
    page.click("#copy-webhook-secret")
    page.wait_for_selector("#copy-webhook-secret >> text=Copied")
    assert page.evaluate("navigator.clipboard.readText()") == shown
    screenshot(page, "webhook-secret-shown-once")
    assert page.evaluate("window.__cspViolations") == []

    receiver.secrets.append(page.evaluate("navigator.clipboard.readText()"))
    page.click("#webhook-endpoints a")
    page.click("#send-test-form button")
    page.wait_for_selector("#webhook-deliveries [data-state=pending]")
    deliver_due()
    page.reload()
    page.wait_for_selector("#webhook-deliveries [data-state=delivered]")
    assert "#new-webhook-secret" not in page.content()
    assert shown not in page.content()
    screenshot(page, "webhook-delivery-log")

    (delivery,) = WebhookDelivery.objects.all()
    assert [r.webhook_id for r in receiver.verified()] == [delivery.event_id]
    assert page.evaluate("window.__cspViolations") == []
