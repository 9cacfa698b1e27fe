"""Staff open the admin only with TOTP (acceptance 8): a staff account without an
authenticator is sent to enrol first; one with an authenticator passes the TOTP step."""

import re
from typing import Any

import pytest
from allauth.mfa.models import Authenticator
from django.contrib.auth.models import User
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from seedance.accounts.identity import verified_email_set
from seedance.accounts.middleware import ENROL_MESSAGE
from seedance.models import Membership, Tenant
from tests.conftest import has_totp, totp_code, totp_enrol

pytestmark = pytest.mark.django_db

PASSWORD = "Violet-Harbour-51"
LOGIN_URL = reverse("account_login")
ADMIN_URL = reverse("admin:index")
ACTIVATE_URL = reverse("mfa_activate_totp")


@pytest.fixture
def staff() -> User:
    user = User.objects.create_user("sam", "sam@example.com", PASSWORD, is_staff=True)
    verified_email_set(user=user, email="sam@example.com")
    return user


def sign_in(client: Client, login: str, next_url: str = "") -> Any:
    data = {"login": login, "password": PASSWORD}
    if next_url:
        data["next"] = next_url
    return client.post(LOGIN_URL, data)


@pytest.mark.parametrize(
    "page",
    [ADMIN_URL, reverse("admin:seedance_run_changelist"), reverse("admin:auth_user_add")],
    ids=["index", "runs", "add-user"],
)
def test_staff_without_totp_is_sent_to_enrol_from_any_admin_page(
    client: Client, staff: User, page: str
) -> None:
    client.force_login(staff)
    response = client.get(page, follow=True)
    assert response.redirect_chain[0] == (ACTIVATE_URL, 302)
    assert ENROL_MESSAGE in [str(message) for message in response.context["messages"]]


def test_staff_enrols_then_the_admin_opens(client: Client, staff: User) -> None:
    signed_in = sign_in(client, "sam", next_url=ADMIN_URL)
    assert signed_in["Location"] == ADMIN_URL
    assert client.get(ADMIN_URL)["Location"] == ACTIVATE_URL

    # Adding an authenticator asks for the password again (allauth's reauthentication).
    asked = client.get(ACTIVATE_URL)
    assert asked["Location"].startswith(reverse("account_reauthenticate"))
    again = client.post(asked["Location"], {"password": PASSWORD})
    assert again["Location"] == ACTIVATE_URL
    page = client.get(ACTIVATE_URL)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'class="qr"' in html  # the QR code, in the portal's layout
    secret = re.search(r'id="authenticator_secret" value="([A-Z2-7]+)"', html)
    assert secret, html
    assert client.post(ACTIVATE_URL, {"code": "000000"}).status_code == 200
    assert not has_totp(staff)

    enrolled = client.post(ACTIVATE_URL, {"code": totp_code(secret.group(1))})
    assert enrolled.status_code == 302
    assert has_totp(staff)
    admin = client.get(ADMIN_URL)
    assert admin.status_code == 200
    assert b"Site administration" in admin.content


def test_staff_with_totp_gets_the_admin_only_after_the_code(client: Client, staff: User) -> None:
    secret = totp_enrol(staff)
    first_step = sign_in(client, "sam@example.com", next_url=ADMIN_URL)
    assert first_step["Location"] == reverse("mfa_authenticate")
    # Password alone: not signed in yet; the admin sends back to sign-in, which resumes at
    # the code step.
    pending = client.get(ADMIN_URL, follow=True)
    assert not pending.wsgi_request.user.is_authenticated
    assert pending.redirect_chain[-1][0] == reverse("mfa_authenticate")

    wrong = client.post(reverse("mfa_authenticate"), {"code": "000000"})
    assert wrong.status_code == 200
    done = client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
    assert done["Location"] == ADMIN_URL
    assert client.get(ADMIN_URL).status_code == 200


def test_admin_login_form_is_allauths_so_a_password_alone_never_opens_the_admin(
    client: Client, staff: User
) -> None:
    totp_enrol(staff)
    response = client.post(
        reverse("admin:login"), {"username": "sam", "password": PASSWORD, "next": ADMIN_URL}
    )
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN_URL)
    assert not client.get(ADMIN_URL).wsgi_request.user.is_authenticated


def test_tenant_people_are_never_asked_to_enrol_and_may_choose_to(
    client: Client, tenant: Tenant
) -> None:
    maya = User.objects.create_user("maya", "maya@example.com", PASSWORD)
    verified_email_set(user=maya, email="maya@example.com")
    Membership.objects.create(user=maya, tenant=tenant, role=Membership.Role.ADMIN)
    assert sign_in(client, "maya")["Location"] == reverse("portal:home")
    menu = client.get(reverse("portal:run-list")).content.decode()
    assert f'href="{reverse("mfa_index")}"' in menu  # the account menu's "Two-factor"
    # Not staff: no admin, enrolled or not.
    assert client.get(ADMIN_URL, follow=True).status_code == 403
    assert client.get(reverse("mfa_index")).status_code == 200
    assert not Authenticator.objects.filter(user=maya).exists()


def test_a_staff_account_made_by_createsuperuser_verifies_its_address_then_enrols(
    client: Client,
) -> None:
    call_command(
        "createsuperuser", "--noinput", "--username", "root", "--email", "root@example.com"
    )
    root = User.objects.get(username="root")
    root.set_password(PASSWORD)
    root.save()

    first = sign_in(client, "root", next_url=ADMIN_URL)
    assert first["Location"] == reverse("account_email_verification_sent")
    link = re.search(r"https?://testserver(/accounts/confirm-email/\S+/)", mail.outbox[-1].body)
    assert link, mail.outbox[-1].body
    confirmed = client.post(link.group(1))
    assert confirmed["Location"] == ADMIN_URL  # signed in, on to where they were going
    assert client.get(ADMIN_URL)["Location"] == ACTIVATE_URL
