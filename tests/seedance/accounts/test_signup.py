"""Sign-up on allauth: email and password, a verified address before the first sign-in."""

import re
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth.models import User
from django.core import mail
from django.test import Client
from django.urls import reverse

from seedance.accounts.identity import verified_email_set

pytestmark = pytest.mark.django_db

SIGNUP_URL = reverse("account_signup")
LOGIN_URL = reverse("account_login")
PASSWORD = "Violet-Harbour-51"


def sign_up(client: Client, email: str, password: str = PASSWORD) -> Any:
    return client.post(SIGNUP_URL, {"email": email, "password1": password, "password2": password})


def confirmation_link(message: Any) -> str:
    found = re.search(r"https?://testserver(/accounts/confirm-email/\S+/)", message.body)
    assert found, message.body
    return found.group(1)


def signed_in_user(client: Client) -> Any:
    return client.get(reverse("portal:home")).wsgi_request.user


def test_sign_up_sends_a_verification_email_and_confirming_signs_in(client: Client) -> None:
    response = sign_up(client, "Maya@Example.com")
    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    user = User.objects.get(email__iexact="maya@example.com")
    assert user.username  # derived from the address: sign-up asks none
    assert not EmailAddress.objects.get(user=user).verified
    assert not signed_in_user(client).is_authenticated

    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["maya@example.com"]
    link = confirmation_link(mail.outbox[0])
    assert client.get(link).status_code == 200  # a page with a button: GET confirms nothing
    assert not EmailAddress.objects.get(user=user).verified

    confirmed = client.post(link)
    assert confirmed.status_code == 302
    assert confirmed["Location"] == reverse("portal:home")
    assert EmailAddress.objects.get(user=user).verified
    assert signed_in_user(client) == user


def test_unverified_account_cannot_sign_in(client: Client) -> None:
    sign_up(Client(), "maya@example.com")
    mail.outbox.clear()
    response = client.post(LOGIN_URL, {"login": "maya@example.com", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    assert not signed_in_user(client).is_authenticated
    # The link was sent at sign-up: another within allauth's cooldown (3 min) would be spam.
    assert not mail.outbox


@pytest.mark.parametrize(
    ("password", "complaint"),
    [
        ("Vb-3x", "too short"),
        ("password123", "too common"),
        ("4815162342", "entirely numeric"),
        ("maya.lindqvist!", "too similar to the email"),
    ],
    ids=["length", "common", "numeric", "similarity"],
)
def test_sign_up_refuses_a_password_any_validator_refuses(
    client: Client, password: str, complaint: str
) -> None:
    response = sign_up(client, "maya.lindqvist@example.com", password)
    assert response.status_code == 200
    assert complaint in response.content.decode()
    assert not User.objects.exists()
    assert not mail.outbox


def test_sign_up_with_a_taken_address_makes_no_account_and_says_nothing_more(
    client: Client, django_user_model: Any
) -> None:
    owner = django_user_model.objects.create_user("maya", "maya@example.com", PASSWORD)
    verified_email_set(user=owner, email="maya@example.com")
    response = sign_up(client, "MAYA@example.com", "Other-Harbour-77")
    # The same page a new address gets; the owner is told by email instead.
    assert response["Location"] == reverse("account_email_verification_sent")
    assert list(User.objects.values_list("username", flat=True)) == ["maya"]
    assert [message.to for message in mail.outbox] == [["maya@example.com"]]


def test_sign_up_page_asks_only_an_email_and_a_password(client: Client) -> None:
    html = client.get(SIGNUP_URL).content.decode()
    assert 'id="signup-form"' in html
    inputs = set(re.findall(r'<input[^>]* name="(\w+)"', html))
    assert inputs == {"csrfmiddlewaretoken", "email", "password1", "password2"}
    assert 'href="/static/portal/portal.css"' in html or "portal/portal.css" in html
