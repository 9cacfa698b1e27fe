"""A visitor signs up, verifies the address from the outbox and is signed in; a person
adds an authenticator app; every page in the portal's look."""

import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core import mail

from tests.browser.conftest import PASSWORD, screenshot
from tests.conftest import has_totp, totp_code

pytestmark = pytest.mark.django_db(transaction=True)


def test_sign_up_verify_from_the_outbox_and_add_an_authenticator(
    page: Any, live_server: Any
) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    screenshot(page, "account-sign-in")
    page.click("#signup-link")
    page.fill("input[name=email]", "noor@example.com")
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    screenshot(page, "account-sign-up")
    page.click("#signup-submit")
    page.wait_for_url("**/accounts/confirm-email/")
    screenshot(page, "account-verification-sent")

    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", mail.outbox[-1].body)
    assert link, mail.outbox[-1].body
    page.goto(link.group(0))
    screenshot(page, "account-confirm-email")
    page.click("main button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/confirm-email/" not in url)

    page.goto(f"{live_server.url}/accounts/email/")
    page.click("#account-menu summary")  # signed in, with no tenant yet: the menu works
    assert page.is_visible("#account-menu >> text=Delete account")
    screenshot(page, "account-email-addresses")

    page.goto(f"{live_server.url}/accounts/2fa/totp/activate/")
    page.fill("input[name=password]", PASSWORD)  # allauth asks again before adding one
    page.click("main button[type=submit]")
    page.wait_for_selector("img.qr")
    screenshot(page, "account-activate-totp")
    secret = page.input_value("#authenticator_secret")
    page.fill("input[name=code]", totp_code(secret))
    page.click("main button[type=submit]")
    page.wait_for_url("**/accounts/2fa/recovery-codes/")
    screenshot(page, "account-recovery-codes")
    assert has_totp(User.objects.get(email="noor@example.com"))
