"""Deleting one's account: memberships go, personal data goes, the runs' history stays;
refused (nothing changed) while a tenant with other members would lose its only admin."""

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from seedance.accounts.identity import verified_email_set
from seedance.models import AuditEntry, Membership, Person, Run, Tenant
from tests.conftest import totp_enrol
from tests.factories import make_run

pytestmark = pytest.mark.django_db

DELETE_URL = reverse("accounts:delete")
PASSWORD = "Violet-Harbour-51"


def make_person(name: str, tenant: Tenant | None = None, role: str = "member") -> User:
    user = User.objects.create_user(name, f"{name}@example.com", PASSWORD)
    verified_email_set(user=user, email=f"{name}@example.com")
    if tenant is not None:
        Membership.objects.create(user=user, tenant=tenant, role=role)
    return user


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_deleting_removes_memberships_and_personal_data_and_keeps_runs(tenant: Tenant) -> None:
    make_person("ada", tenant, "admin")
    maya = make_person("maya", tenant)
    totp_enrol(maya)
    run = make_run(
        tenant, created_by=maya, end_user_id=Person.objects.create(user=maya).end_user_id
    )
    client = signed_in(maya)
    elsewhere = signed_in(maya)

    response = client.post(DELETE_URL, {"password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == reverse("account_login")
    maya.refresh_from_db()
    assert (maya.username, maya.email, maya.is_active) == (f"deleted-{maya.pk}", "", False)
    assert not maya.has_usable_password()
    assert not Membership.objects.filter(user=maya).exists()
    left = AuditEntry.objects.get(action=AuditEntry.Action.MEMBER_REMOVED)
    assert (left.tenant, left.target, left.details) == (tenant, "maya", {"role": "member"})
    assert not EmailAddress.objects.filter(user=maya).exists()
    assert not Authenticator.objects.filter(user=maya).exists()
    run = Run.objects.get(pk=run.pk)
    assert run.created_by_id == maya.pk
    assert run.end_user_id == maya.person.end_user_id
    for session in (client, elsewhere):  # every session of the account is over
        assert not session.get(reverse("portal:home")).wsgi_request.user.is_authenticated
    # The address is free again.
    assert (
        Client()
        .post(
            reverse("account_signup"),
            {"email": "maya@example.com", "password1": PASSWORD, "password2": PASSWORD},
        )
        .status_code
        == 302
    )
    assert User.objects.filter(email="maya@example.com", is_active=True).count() == 1


def test_only_admin_of_a_tenant_with_members_is_refused_and_nothing_changes(
    tenant: Tenant,
) -> None:
    ada = make_person("ada", tenant, "admin")
    make_person("maya", tenant)
    client = signed_in(ada)
    page = client.get(DELETE_URL).content.decode()
    assert 'id="delete-blocked"' in page
    assert "only admin of Acme" in page

    response = client.post(DELETE_URL, {"password": PASSWORD})

    assert response.status_code == 200
    assert "only admin of Acme" in response.content.decode()
    ada.refresh_from_db()
    assert (ada.username, ada.is_active) == ("ada", True)
    assert Membership.objects.filter(user=ada, role="admin").exists()
    assert EmailAddress.objects.filter(user=ada, verified=True).exists()
    assert not AuditEntry.objects.exists()


def test_an_admin_with_another_admin_beside_them_may_delete(tenant: Tenant) -> None:
    ada = make_person("ada", tenant, "admin")
    make_person("max", tenant, "admin")
    assert signed_in(ada).post(DELETE_URL, {"password": PASSWORD}).status_code == 302
    assert list(Membership.objects.for_tenant(tenant).values_list("user__username", flat=True)) == [
        "max"
    ]


def test_the_only_person_of_a_tenant_may_delete_and_the_tenant_stays(tenant: Tenant) -> None:
    ada = make_person("ada", tenant, "admin")
    make_run(tenant, created_by=ada)
    assert signed_in(ada).post(DELETE_URL, {"password": PASSWORD}).status_code == 302
    assert Tenant.objects.filter(pk=tenant.pk).exists()
    assert not Membership.objects.for_tenant(tenant).exists()
    assert Run.objects.for_tenant(tenant).count() == 1


def test_a_wrong_password_is_a_form_error_and_changes_nothing(tenant: Tenant) -> None:
    maya = make_person("maya", tenant)
    response = signed_in(maya).post(DELETE_URL, {"password": "not-my-password"})
    assert response.status_code == 200
    assert "That is not your password." in response.content.decode()
    maya.refresh_from_db()
    assert maya.is_active
    assert maya.check_password(PASSWORD)
    assert Membership.objects.filter(user=maya).exists()


def test_password_guesses_on_the_delete_page_are_limited(tenant: Tenant) -> None:
    maya = make_person("maya", tenant)
    client = signed_in(maya)
    answers = [client.post(DELETE_URL, {"password": f"guess-{n}"}).status_code for n in range(11)]
    assert answers == [200] * 10 + [429]
    maya.refresh_from_db()
    assert maya.is_active


def test_delete_needs_sign_in(client: Client) -> None:
    response = client.get(DELETE_URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
