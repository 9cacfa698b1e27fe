"""Tenant admin pages: keys shown once, members and the last-admin rule, settings, 404s."""

import re
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from seedance.models import ApiKey, Membership, Tenant
from seedance.services.keys import api_key_issue
from tests.factories import SYSTEM

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_user(django_user_model: Any, tenant: Tenant) -> Any:
    user = django_user_model.objects.create_user(username="ada", email="ada@example.com")
    Membership.objects.create(user=user, tenant=tenant, role=Membership.Role.ADMIN)
    return user


@pytest.fixture
def member_user(django_user_model: Any, tenant: Tenant) -> Any:
    user = django_user_model.objects.create_user(username="max", email="max@example.com")
    Membership.objects.create(user=user, tenant=tenant, role=Membership.Role.MEMBER)
    return user


@pytest.fixture
def admin_client(client: Any, admin_user: Any) -> Any:
    client.force_login(admin_user)
    return client


def new_key_secret(html: str) -> str:
    found = re.search(r'id="new-api-key">([^<]+)<', html)
    assert found is not None
    return found.group(1).strip()


def test_created_key_is_shown_once_and_authenticates(admin_client: Any, tenant: Tenant) -> None:
    response = admin_client.post(reverse("portal:keys"), {"name": "Production"})
    assert response.status_code == 200
    html = response.content.decode()
    secret = new_key_secret(html)
    key = ApiKey.objects.get(tenant=tenant, name="Production")
    assert secret.startswith(key.prefix)
    assert f'data-key-prefix="{key.prefix}"' in html
    assert response["Cache-Control"] == "no-store"

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert api.get("/api/v1/runs").status_code == 200

    again = admin_client.get(reverse("portal:keys")).content.decode()
    assert secret not in again
    assert 'id="new-api-key"' not in again
    assert f'data-key-prefix="{key.prefix}"' in again


def test_revoked_key_gets_401(admin_client: Any, tenant: Tenant) -> None:
    issued = api_key_issue(tenant=tenant, name="old", actor=SYSTEM)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.secret}")
    assert api.get("/api/v1/runs").status_code == 200

    response = admin_client.post(reverse("portal:key-revoke", args=[issued.api_key.pk]))
    assert response.status_code == 302
    issued.api_key.refresh_from_db()
    assert issued.api_key.revoked_at is not None
    assert api.get("/api/v1/runs").status_code == 401
    assert (
        'class="button danger revoke-key"'
        not in admin_client.get(reverse("portal:keys")).content.decode()
    )


def test_key_name_is_required(admin_client: Any, tenant: Tenant) -> None:
    response = admin_client.post(reverse("portal:keys"), {"name": ""})
    assert response.status_code == 200
    assert "name" in response.context["form"].errors
    assert not ApiKey.objects.filter(tenant=tenant).exists()


def test_people_are_added_by_email_only_and_always_told(
    admin_client: Any, tenant: Tenant, django_user_model: Any
) -> None:
    """No picking platform accounts by username, no telling which addresses exist."""
    bob = django_user_model.objects.create_user(username="bob", email="bob@example.com")
    refused = admin_client.post(reverse("portal:members"), {"identifier": "bob", "role": "member"})
    assert refused.status_code == 200
    assert not Membership.objects.filter(tenant=tenant, user=bob).exists()
    known = admin_client.post(
        reverse("portal:members"), {"identifier": "BOB@example.com", "role": "admin"}
    )
    unknown = admin_client.post(
        reverse("portal:members"), {"identifier": "zoe@example.com", "role": "member"}
    )
    assert Membership.objects.get(tenant=tenant, user=bob).role == "admin"
    assert known.status_code == unknown.status_code == 302
    assert sorted(message.to[0] for message in mail.outbox) == [
        "bob@example.com",
        "zoe@example.com",
    ]


def test_add_new_email_creates_user_and_sends_a_password_link(
    admin_client: Any, tenant: Tenant, django_user_model: Any
) -> None:
    response = admin_client.post(
        reverse("portal:members"), {"identifier": "new@example.com", "role": "member"}
    )
    assert response.status_code == 302
    user = django_user_model.objects.get(email="new@example.com")
    assert not user.has_usable_password()
    assert Membership.objects.filter(tenant=tenant, user=user).exists()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["new@example.com"]
    assert "Acme" in mail.outbox[0].subject
    link = re.search(r"https?://testserver(/accounts/password/reset/key/\S+)", mail.outbox[0].body)
    assert link, mail.outbox[0].body
    # The link works: the invitee chooses a password through allauth's reset page.
    invitee = Client()
    form_url = invitee.get(link.group(1))["Location"]
    chosen = invitee.post(
        form_url, {"password1": "Violet-Harbour-51", "password2": "Violet-Harbour-51"}
    )
    assert chosen.status_code == 302
    user.refresh_from_db()
    assert user.check_password("Violet-Harbour-51")


def test_add_unknown_username_or_existing_member_is_a_field_error(
    admin_client: Any, member_user: Any
) -> None:
    for identifier in ("nobody", "max"):
        response = admin_client.post(
            reverse("portal:members"), {"identifier": identifier, "role": "member"}
        )
        assert response.status_code == 200
        assert "identifier" in response.context["form"].errors


def test_change_role(admin_client: Any, tenant: Tenant, member_user: Any) -> None:
    membership = Membership.objects.get(tenant=tenant, user=member_user)
    admin_client.post(reverse("portal:member-role", args=[membership.pk]), {"role": "admin"})
    membership.refresh_from_db()
    assert membership.role == "admin"


def test_remove_member(admin_client: Any, tenant: Tenant, member_user: Any) -> None:
    membership = Membership.objects.get(tenant=tenant, user=member_user)
    response = admin_client.post(reverse("portal:member-remove", args=[membership.pk]))
    assert response.status_code == 302
    assert not Membership.objects.filter(pk=membership.pk).exists()


def test_last_admin_can_neither_be_demoted_nor_removed(
    admin_client: Any, tenant: Tenant, admin_user: Any
) -> None:
    own = Membership.objects.get(tenant=tenant, user=admin_user)
    admin_client.post(reverse("portal:member-role", args=[own.pk]), {"role": "member"})
    admin_client.post(reverse("portal:member-remove", args=[own.pk]))
    own.refresh_from_db()
    assert own.role == "admin"
    page = admin_client.get(reverse("portal:members")).content.decode()
    assert "at least one admin" in page


def test_an_admin_may_leave_when_another_admin_remains(
    admin_client: Any, tenant: Tenant, admin_user: Any, member_user: Any
) -> None:
    Membership.objects.filter(user=member_user).update(role="admin")
    own = Membership.objects.get(tenant=tenant, user=admin_user)
    admin_client.post(reverse("portal:member-role", args=[own.pk]), {"role": "member"})
    own.refresh_from_db()
    assert own.role == "member"


def test_tenant_settings(admin_client: Any, tenant: Tenant) -> None:
    url = reverse("portal:tenant-settings")
    admin_client.post(url, {"name": "Acme Studios", "output_retention_days": "30"})
    tenant.refresh_from_db()
    assert (tenant.name, tenant.output_retention_days) == ("Acme Studios", 30)

    admin_client.post(url, {"name": "Acme Studios", "output_retention_days": ""})
    tenant.refresh_from_db()
    assert tenant.output_retention_days is None

    refused = admin_client.post(url, {"name": "Acme", "output_retention_days": "0"})
    assert "output_retention_days" in refused.context["form"].errors


def test_manage_hub_links_every_page(admin_client: Any) -> None:
    html = admin_client.get(reverse("portal:manage")).content.decode()
    for name in ("portal:keys", "portal:members", "billing_portal:caps", "portal:tenant-settings"):
        assert f'href="{reverse(name)}"' in html


def manage_urls(key_id: int, membership_id: int) -> list[tuple[str, str]]:
    return [
        ("get", reverse("portal:manage")),
        ("get", reverse("portal:keys")),
        ("post", reverse("portal:keys")),
        ("post", reverse("portal:key-revoke", args=[key_id])),
        ("get", reverse("portal:members")),
        ("post", reverse("portal:members")),
        ("post", reverse("portal:member-role", args=[membership_id])),
        ("post", reverse("portal:member-remove", args=[membership_id])),
        ("get", reverse("portal:tenant-settings")),
        ("post", reverse("portal:tenant-settings")),
        ("get", reverse("billing_portal:caps")),
    ]


def test_every_manage_url_is_404_for_a_member(
    client: Any, tenant: Tenant, member_user: Any, admin_user: Any
) -> None:
    key = api_key_issue(tenant=tenant, name="k", actor=SYSTEM).api_key
    admin_membership = Membership.objects.get(user=admin_user)
    client.force_login(member_user)
    for method, url in manage_urls(key.pk, admin_membership.pk):
        response = getattr(client, method)(url, {"name": "x", "role": "member"})
        assert response.status_code == 404, (method, url)
    key.refresh_from_db()
    assert key.revoked_at is None
    assert Membership.objects.filter(pk=admin_membership.pk).exists()


def test_another_tenants_objects_are_404(
    admin_client: Any, other_tenant: Tenant, django_user_model: Any
) -> None:
    foreign_key = api_key_issue(tenant=other_tenant, name="theirs", actor=SYSTEM).api_key
    stranger = django_user_model.objects.create_user(username="zed")
    foreign = Membership.objects.create(user=stranger, tenant=other_tenant, role="admin")
    for url in (
        reverse("portal:key-revoke", args=[foreign_key.pk]),
        reverse("portal:member-role", args=[foreign.pk]),
        reverse("portal:member-remove", args=[foreign.pk]),
    ):
        assert admin_client.post(url, {"role": "member"}).status_code == 404, url
    foreign_key.refresh_from_db()
    foreign.refresh_from_db()
    assert foreign_key.revoked_at is None
    assert foreign.role == "admin"
    assert "theirs" not in admin_client.get(reverse("portal:keys")).content.decode()


def test_forms_carry_csrf_tokens(admin_client: Any, tenant: Tenant) -> None:
    api_key_issue(tenant=tenant, name="k", actor=SYSTEM)
    for name in ("portal:keys", "portal:members", "portal:tenant-settings"):
        html = admin_client.get(reverse(name)).content.decode()
        assert html.count("<form") <= html.count('name="csrfmiddlewaretoken"'), name


def test_manage_needs_sign_in(client: Any) -> None:
    response = client.get(reverse("portal:keys"))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
