"""Tenant admin pages: keys shown once, members and the last-admin rule, settings, 404s."""

import re
from typing import Any

import pytest
from django.core import mail
from django.urls import reverse
from rest_framework.test import APIClient

from seedance.audit import Actor
from seedance.models import ApiKey, Invitation, Membership, Tenant
from seedance.services.keys import api_key_issue
from seedance.services.members import invitation_create
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


@pytest.fixture
def post_invite(admin_client: Any, django_capture_on_commit_callbacks: Any) -> Any:
    """POST the invite form as the admin; what the service defers to commit (the email) runs."""

    def post(email: str, role: str = "member") -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return admin_client.post(reverse("portal:members"), {"email": email, "role": role})

    return post


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


def test_inviting_by_email_makes_no_member_until_they_accept(
    admin_client: Any, post_invite: Any, tenant: Tenant, django_user_model: Any
) -> None:
    """The form invites; an existing account is not attached, a new address gets no account."""
    bob = django_user_model.objects.create_user(username="bob", email="bob@example.com")
    assert post_invite("BOB@example.com", "admin").status_code == 302
    assert post_invite("zoe@example.com").status_code == 302
    assert not Membership.objects.filter(tenant=tenant, user=bob).exists()
    assert not django_user_model.objects.filter(email="zoe@example.com").exists()
    assert sorted((i.email, i.role) for i in Invitation.objects.for_tenant(tenant)) == [
        ("bob@example.com", "admin"),
        ("zoe@example.com", "member"),
    ]
    assert sorted(message.to[0] for message in mail.outbox) == [
        "bob@example.com",
        "zoe@example.com",
    ]
    page = admin_client.get(reverse("portal:members")).content.decode()
    assert 'data-invitation="bob@example.com"' in page
    assert 'data-invitation="zoe@example.com"' in page


def test_the_invitation_email_names_the_tenant_and_the_inviter(post_invite: Any) -> None:
    post_invite("new@example.com")
    (message,) = mail.outbox
    assert message.to == ["new@example.com"]
    assert "Acme" in message.subject
    assert "ada" in message.subject
    assert "ada (ada@example.com) invited you to join Acme" in message.body
    assert "/invitations/" in message.body


def test_inviting_a_bad_address_a_member_or_twice_is_a_field_error(
    post_invite: Any, member_user: Any
) -> None:
    post_invite("zoe@example.com")
    mail.outbox.clear()
    for email in ("nobody", "max@example.com", "ZOE@example.com"):
        response = post_invite(email)
        assert response.status_code == 200
        assert "email" in response.context["form"].errors, email
    assert Invitation.objects.count() == 1
    assert mail.outbox == []


def test_a_revoked_invitation_leaves_the_list(
    admin_client: Any, post_invite: Any, tenant: Tenant
) -> None:
    post_invite("zoe@example.com")
    invitation = Invitation.objects.get()
    response = admin_client.post(reverse("portal:invitation-revoke", args=[invitation.pk]))
    assert response.status_code == 302
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
    page = admin_client.get(reverse("portal:members")).content.decode()
    assert "Invitation to zoe@example.com revoked." in page
    assert 'data-invitation="zoe@example.com"' not in page


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


def manage_urls(key_id: int, membership_id: int, invitation_id: int) -> list[tuple[str, str]]:
    return [
        ("get", reverse("portal:manage")),
        ("get", reverse("portal:keys")),
        ("post", reverse("portal:keys")),
        ("post", reverse("portal:key-revoke", args=[key_id])),
        ("get", reverse("portal:members")),
        ("post", reverse("portal:members")),
        ("post", reverse("portal:member-role", args=[membership_id])),
        ("post", reverse("portal:member-remove", args=[membership_id])),
        ("post", reverse("portal:invitation-revoke", args=[invitation_id])),
        ("get", reverse("portal:tenant-settings")),
        ("post", reverse("portal:tenant-settings")),
        ("get", reverse("billing_portal:caps")),
    ]


def test_every_manage_url_is_404_for_a_member(
    client: Any, tenant: Tenant, member_user: Any, admin_user: Any
) -> None:
    key = api_key_issue(tenant=tenant, name="k", actor=SYSTEM).api_key
    admin_membership = Membership.objects.get(user=admin_user)
    invitation = invitation_create(
        tenant=tenant, email="zoe@example.com", role="member", actor=Actor.tenant_admin(admin_user)
    ).invitation
    client.force_login(member_user)
    for method, url in manage_urls(key.pk, admin_membership.pk, invitation.pk):
        data = {"name": "x", "role": "member", "email": "eve@example.com"}
        response = getattr(client, method)(url, data)
        assert response.status_code == 404, (method, url)
    key.refresh_from_db()
    assert key.revoked_at is None
    assert Membership.objects.filter(pk=admin_membership.pk).exists()
    invitation.refresh_from_db()
    assert invitation.revoked_at is None
    assert list(Invitation.objects.values_list("email", flat=True)) == ["zoe@example.com"]


def test_another_tenants_objects_are_404(
    admin_client: Any, other_tenant: Tenant, django_user_model: Any
) -> None:
    foreign_key = api_key_issue(tenant=other_tenant, name="theirs", actor=SYSTEM).api_key
    stranger = django_user_model.objects.create_user(username="zed")
    foreign = Membership.objects.create(user=stranger, tenant=other_tenant, role="admin")
    foreign_invitation = invitation_create(
        tenant=other_tenant,
        email="zoe@example.com",
        role="member",
        actor=Actor.tenant_admin(stranger),
    ).invitation
    for url in (
        reverse("portal:key-revoke", args=[foreign_key.pk]),
        reverse("portal:member-role", args=[foreign.pk]),
        reverse("portal:member-remove", args=[foreign.pk]),
        reverse("portal:invitation-revoke", args=[foreign_invitation.pk]),
    ):
        assert admin_client.post(url, {"role": "member"}).status_code == 404, url
    foreign_key.refresh_from_db()
    foreign.refresh_from_db()
    foreign_invitation.refresh_from_db()
    assert foreign_invitation.revoked_at is None
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
    assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.parametrize("days", [str(2**31), "9" * 40, "36501"], ids=["int32", "huge", "past-max"])
def test_retention_days_past_a_century_is_a_form_error(
    admin_client: Any, tenant: Tenant, days: str
) -> None:
    response = admin_client.post(
        reverse("portal:tenant-settings"), {"name": "Acme", "output_retention_days": days}
    )
    assert response.status_code == 200
    assert "output_retention_days" in response.context["form"].errors
    tenant.refresh_from_db()
    assert tenant.output_retention_days is None
