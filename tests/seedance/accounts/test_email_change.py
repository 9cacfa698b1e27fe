"""Changing one's email address: the new one counts only once it is verified."""

import re
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.test import Client
from django.urls import reverse

from seedance.accounts.identity import verified_email_set

pytestmark = pytest.mark.django_db

PASSWORD = "Violet-Harbour-51"


@pytest.fixture
def person(django_user_model: Any) -> Any:
    user = django_user_model.objects.create_user("maya", "maya@example.com", PASSWORD)
    verified_email_set(user=user, email="maya@example.com")
    return user


def test_new_address_replaces_the_old_only_after_its_verification(
    client: Client, person: Any
) -> None:
    client.force_login(person)
    response = client.post(reverse("account_email"), {"action_add": "", "email": "m@new.test"})
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.email == "maya@example.com"  # not yet: unverified
    assert [message.to for message in mail.outbox] == [["m@new.test"]]
    # Signing in still takes the verified address, and not the new one.
    assert Client().login(username="maya@example.com", password=PASSWORD)

    link = re.search(r"https?://testserver(/accounts/confirm-email/\S+/)", mail.outbox[0].body)
    assert link, mail.outbox[0].body
    assert client.post(link.group(1)).status_code == 302

    person.refresh_from_db()
    assert person.email == "m@new.test"
    assert list(EmailAddress.objects.filter(user=person).values_list("email", "verified")) == [
        ("m@new.test", True)
    ]
    signed_in = Client()
    response = signed_in.post(
        reverse("account_login"), {"login": "m@new.test", "password": PASSWORD}
    )
    assert response["Location"] == reverse("portal:home")


def test_an_address_another_account_uses_is_never_added(
    client: Client, person: Any, django_user_model: Any
) -> None:
    other = django_user_model.objects.create_user("max", "max@example.com", PASSWORD)
    verified_email_set(user=other, email="max@example.com")
    client.force_login(person)
    response = client.post(reverse("account_email"), {"action_add": "", "email": "MAX@example.com"})
    # Answered like any address (this form finds no accounts for anyone); the link goes to
    # the address's owner, and confirming it cannot take the address from their account.
    assert response.status_code == 302
    assert [message.to for message in mail.outbox] == [["max@example.com"]]
    link = re.search(r"https?://testserver(/accounts/confirm-email/\S+/)", mail.outbox[0].body)
    assert link, mail.outbox[0].body
    Client().post(link.group(1))
    assert not EmailAddress.objects.filter(user=person, verified=True, email="max@example.com")
    person.refresh_from_db()
    assert person.email == "maya@example.com"
    assert EmailAddress.objects.get(email="max@example.com", verified=True).user == other


def test_email_page_renders_in_the_portal_layout(client: Client, person: Any) -> None:
    client.force_login(person)
    html = client.get(reverse("account_email")).content.decode()
    assert 'class="page card account-page"' in html
    assert 'id="account-menu"' in html  # the portal's top bar, though maya has no tenant
    assert reverse("accounts:delete") in html
