"""Staff controls in the admin: suspend, resume and revoke every key through a confirmation
page that requires a reason; key and tenant edits are audited; the audit log is read-only."""

from typing import Any

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import User
from django.test import Client

from seedance.audit import Actor
from seedance.models import ApiKey, AuditEntry, Invitation, Membership, Run, Tenant
from seedance.services.keys import api_key_issue
from seedance.services.members import invitation_create
from seedance.states import RunStatus
from tests.conftest import totp_enrol
from tests.factories import SYSTEM, make_run

pytestmark = pytest.mark.django_db

TENANTS = "/admin/seedance/tenant/"
KEYS = "/admin/seedance/apikey/"
AUDIT = "/admin/seedance/auditentry/"
Action = AuditEntry.Action


@pytest.fixture
def staff(db: None) -> User:
    user = User.objects.create_superuser("stella", "stella@example.com", "pw-not-used-0")
    totp_enrol(user)  # staff open the admin only with TOTP
    return user


@pytest.fixture
def staff_client(client: Client, staff: User) -> Client:
    client.force_login(staff)
    return client


def act(client: Client, url: str, action: str, ids: list[Any], **confirm: str) -> Any:
    """The changelist's action POST; with ``confirm`` fields, the confirmation page's POST."""
    data: dict[str, Any] = {"action": action, ACTION_CHECKBOX_NAME: [str(pk) for pk in ids]}
    if confirm:
        data.update(confirm="yes", **confirm)
    return client.post(url, data)


def test_suspend_asks_for_a_reason_before_anything_changes(
    staff_client: Client, tenant: Tenant
) -> None:
    waiting = make_run(tenant)
    page = act(staff_client, TENANTS, "suspend_selected", [tenant.pk])
    assert page.status_code == 200
    assert b"Suspend tenants" in page.content
    assert b'name="reason"' in page.content

    refused = act(staff_client, TENANTS, "suspend_selected", [tenant.pk], reason=" ")
    assert refused.status_code == 200
    assert refused.context["form"].errors["reason"]
    tenant.refresh_from_db()
    assert tenant.suspended_at is None
    assert Run.objects.get(pk=waiting.pk).status == RunStatus.QUEUED
    assert not AuditEntry.objects.exists()


def test_suspend_and_resume_from_the_admin(
    staff_client: Client, staff: User, tenant: Tenant
) -> None:
    waiting = make_run(tenant)
    done = act(
        staff_client,
        TENANTS,
        "suspend_selected",
        [tenant.pk],
        reason="fraud ring",
        notice="Contact billing@acme.example.",
    )
    assert done.status_code == 302
    tenant.refresh_from_db()
    assert tenant.suspended_at is not None
    assert tenant.suspension_notice == "Contact billing@acme.example."
    assert Run.objects.get(pk=waiting.pk).status == RunStatus.CANCELED
    entry = AuditEntry.objects.get(action=Action.TENANT_SUSPENDED)
    assert (entry.actor, entry.reason, entry.tenant) == (staff, "fraud ring", tenant)

    act(staff_client, TENANTS, "suspend_selected", [tenant.pk], reason="again", notice="")
    assert AuditEntry.objects.filter(action=Action.TENANT_SUSPENDED).count() == 1

    act(staff_client, TENANTS, "resume_selected", [tenant.pk], reason="cleared")
    tenant.refresh_from_db()
    assert tenant.suspended_at is None
    assert AuditEntry.objects.get(action=Action.TENANT_RESUMED).reason == "cleared"


def test_revoke_every_key_of_selected_tenants(
    staff_client: Client, tenant: Tenant, other_tenant: Tenant
) -> None:
    mine = [api_key_issue(tenant=tenant, name=f"k{n}", actor=SYSTEM).api_key for n in range(2)]
    theirs = api_key_issue(tenant=other_tenant, name="g", actor=SYSTEM).api_key
    assert b'name="reason"' in act(staff_client, TENANTS, "revoke_all_keys", [tenant.pk]).content

    act(staff_client, TENANTS, "revoke_all_keys", [tenant.pk], reason="keys leaked on GitHub")

    assert all(key.revoked_at for key in ApiKey.objects.filter(pk__in=[k.pk for k in mine]))
    assert ApiKey.objects.get(pk=theirs.pk).revoked_at is None
    entry = AuditEntry.objects.get(action=Action.KEYS_REVOKED_ALL)
    assert entry.reason == "keys leaked on GitHub"
    assert entry.details["revoked"] == 2


def test_revoke_selected_keys_with_a_reason(staff_client: Client, tenant: Tenant) -> None:
    key = api_key_issue(tenant=tenant, name="prod", actor=SYSTEM).api_key
    act(staff_client, KEYS, "revoke_selected", [key.pk], reason="")
    assert ApiKey.objects.get(pk=key.pk).revoked_at is None

    act(staff_client, KEYS, "revoke_selected", [key.pk], reason="customer asked by phone")

    assert ApiKey.objects.get(pk=key.pk).revoked_at is not None
    entry = AuditEntry.objects.get(action=Action.KEY_REVOKED)
    assert entry.actor_role == AuditEntry.ActorRole.STAFF
    assert entry.reason == "customer asked by phone"


def test_a_key_is_not_edited_or_deleted_in_the_admin(staff_client: Client, tenant: Tenant) -> None:
    key = api_key_issue(tenant=tenant, name="prod", actor=SYSTEM).api_key
    staff_client.post(f"{KEYS}{key.pk}/change/", {"name": "renamed", "revoked_at_0": "2026-01-01"})
    key.refresh_from_db()
    assert (key.name, key.revoked_at) == ("prod", None)
    assert staff_client.post(f"{KEYS}{key.pk}/delete/", {"post": "yes"}).status_code == 403


def test_a_tenant_edit_needs_a_reason_and_is_recorded(staff_client: Client, tenant: Tenant) -> None:
    url = f"{TENANTS}{tenant.pk}/change/"
    form = {"slug": "acme", "name": "Acme Corp", "output_retention_days": "14"}
    for inline in ("memberships", "invitations"):  # the read-only inlines' management forms
        form.update({f"{inline}-TOTAL_FORMS": "0", f"{inline}-INITIAL_FORMS": "0"})
    refused = staff_client.post(url, form)
    assert refused.status_code == 200
    tenant.refresh_from_db()
    assert tenant.name == "Acme"

    assert staff_client.post(url, {**form, "reason": "legal name change"}).status_code == 302
    tenant.refresh_from_db()
    assert (tenant.name, tenant.output_retention_days) == ("Acme Corp", 14)
    entry = AuditEntry.objects.get(action=Action.TENANT_SETTINGS_CHANGED)
    assert entry.reason == "legal name change"
    assert entry.details == {
        "name": {"before": "Acme", "after": "Acme Corp"},
        "output_retention_days": {"before": None, "after": 14},
    }


def test_the_audit_log_is_read_only_and_filtered(
    staff_client: Client, tenant: Tenant, other_tenant: Tenant
) -> None:
    act(staff_client, TENANTS, "revoke_all_keys", [tenant.pk, other_tenant.pk], reason="audit")
    entry = AuditEntry.objects.filter(tenant=tenant).get()

    listed = staff_client.get(AUDIT, {"tenant__id__exact": tenant.pk})
    assert listed.status_code == 200
    assert list(listed.context["cl"].result_list) == [entry]
    by_action = staff_client.get(AUDIT, {"action__exact": Action.KEY_ISSUED})
    assert list(by_action.context["cl"].result_list) == []
    assert staff_client.get(f"{AUDIT}{entry.pk}/change/").status_code == 200  # view only
    staff_client.post(f"{AUDIT}{entry.pk}/change/", {"reason": "rewritten"})
    assert AuditEntry.objects.get(pk=entry.pk).reason == "audit"
    assert staff_client.get(f"{AUDIT}add/").status_code == 403
    assert staff_client.post(f"{AUDIT}{entry.pk}/delete/", {"post": "yes"}).status_code == 403


def test_the_tenant_page_shows_staff_why_it_is_suspended(
    staff_client: Client, tenant: Tenant
) -> None:
    act(staff_client, TENANTS, "suspend_selected", [tenant.pk], reason="fraud ring", notice="")
    page = staff_client.get(f"{TENANTS}{tenant.pk}/change/").content.decode()
    assert "fraud ring (stella)" in page


def test_the_tenant_page_shows_how_members_joined_and_the_invitations(
    staff_client: Client, tenant: Tenant, django_user_model: Any
) -> None:
    ada = django_user_model.objects.create_user("ada", "ada@example.com")
    Membership.objects.create(user=ada, tenant=tenant, role="admin", joined_via="legacy")
    invitation_create(
        tenant=tenant, email="zoe@example.com", role="member", actor=Actor.tenant_admin(ada)
    )
    html = staff_client.get(f"{TENANTS}{tenant.pk}/change/").content.decode()
    assert "Added before invitations needed consent" in html
    assert "zoe@example.com" in html
    assert Invitation.objects.count() == 1
