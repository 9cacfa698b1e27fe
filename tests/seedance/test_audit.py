"""The audit log: each staff and tenant-admin change leaves one entry (who, when, what,
why, before and after) written in the change's transaction, so a failed change leaves none;
tenant admins read their own tenant's log in the portal, without staff's internal reasons."""

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from seedance.audit import Action, Actor, audit_record
from seedance.exceptions import TenantChangeRefused
from seedance.models import ApiKey, AuditEntry, Membership, Run, Tenant
from seedance.services.keys import api_key_issue, api_key_revoke, api_key_revoke_all
from seedance.services.members import member_remove, member_role_set
from seedance.services.suspension import tenant_resume, tenant_suspend
from seedance.services.tenants import tenant_settings_update
from seedance.states import RunStatus
from tests.factories import SYSTEM, make_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(db: None) -> User:
    return User.objects.create_user("stella", is_staff=True)


@pytest.fixture
def ada(tenant: Tenant) -> User:
    user = User.objects.create_user("ada", email="ada@example.com")
    Membership.objects.create(user=user, tenant=tenant, role=Membership.Role.ADMIN)
    return user


@pytest.fixture
def max_(tenant: Tenant) -> Membership:
    user = User.objects.create_user("max", email="max@example.com")
    return Membership.objects.create(user=user, tenant=tenant, role=Membership.Role.MEMBER)


def entries(action: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action).order_by("created_at", "id"))


@pytest.mark.django_db(transaction=True)
def test_an_entry_outside_a_transaction_is_refused(tenant: Tenant, staff: User) -> None:
    with pytest.raises(RuntimeError):
        audit_record(
            action=Action.TENANT_SUSPENDED, actor=Actor.staff(staff), tenant=tenant, reason="x"
        )


def test_an_entry_rolls_back_with_its_change(tenant: Tenant, ada: User) -> None:
    issued = api_key_issue(tenant=tenant, name="prod", actor=SYSTEM)

    def revoke_then_fail() -> None:
        with transaction.atomic():
            api_key_revoke(tenant=tenant, key_id=issued.api_key.pk, actor=Actor.tenant_admin(ada))
            assert entries(Action.KEY_REVOKED)
            raise RuntimeError("the request failed after the revoke")

    with pytest.raises(RuntimeError):
        revoke_then_fail()
    assert ApiKey.objects.get(pk=issued.api_key.pk).revoked_at is None
    assert entries(Action.KEY_REVOKED) == []


def test_a_staff_action_without_a_reason_changes_nothing(tenant: Tenant, staff: User) -> None:
    waiting = make_run(tenant)
    issued = api_key_issue(tenant=tenant, name="prod", actor=SYSTEM)
    with pytest.raises(ValueError, match="reason"):
        tenant_suspend(tenant=tenant, actor=Actor.staff(staff), reason="  ")
    with pytest.raises(ValueError, match="reason"):
        api_key_revoke_all(tenant=tenant, actor=Actor.staff(staff), reason="")
    tenant.refresh_from_db()
    assert tenant.suspended_at is None
    assert Run.objects.get(pk=waiting.pk).status == RunStatus.QUEUED
    assert ApiKey.objects.get(pk=issued.api_key.pk).revoked_at is None
    assert not AuditEntry.objects.exclude(action=Action.KEY_ISSUED).exists()


def test_suspend_and_resume_say_who_when_what_and_why(tenant: Tenant, staff: User) -> None:
    make_run(tenant)
    before = timezone.now()
    tenant_suspend(
        tenant=tenant, actor=Actor.staff(staff), reason="chargebacks", notice="Under review."
    )
    tenant_resume(tenant=tenant, actor=Actor.staff(staff), reason="settled")

    (suspended,) = entries(Action.TENANT_SUSPENDED)
    assert suspended.actor == staff
    assert suspended.actor_label == "stella"
    assert suspended.actor_role == AuditEntry.ActorRole.STAFF
    assert suspended.tenant == tenant
    assert suspended.created_at >= before
    assert suspended.reason == "chargebacks"
    assert suspended.details == {"notice": "Under review.", "canceled_runs": 1}
    (resumed,) = entries(Action.TENANT_RESUMED)
    assert resumed.reason == "settled"
    assert resumed.created_at >= suspended.created_at


def test_revoke_all_is_one_update_and_names_every_key(tenant: Tenant, staff: User) -> None:
    keys = [api_key_issue(tenant=tenant, name=f"k{n}", actor=SYSTEM).api_key for n in range(3)]
    api_key_revoke(tenant=tenant, key_id=keys[0].pk, actor=SYSTEM)
    other = api_key_issue(tenant=Tenant.objects.create(slug="globex"), name="g", actor=SYSTEM)

    with CaptureQueriesContext(connection) as queries:
        revoked = api_key_revoke_all(tenant=tenant, actor=Actor.staff(staff), reason="leaked")

    assert revoked == 2
    updates = [q["sql"] for q in queries if q["sql"].startswith('UPDATE "seedance_apikey"')]
    assert len(updates) == 1
    assert ApiKey.objects.for_tenant(tenant).filter(revoked_at__isnull=True).count() == 0
    assert ApiKey.objects.get(pk=other.api_key.pk).revoked_at is None
    (entry,) = entries(Action.KEYS_REVOKED_ALL)
    assert entry.reason == "leaked"
    assert entry.details == {"revoked": 2, "prefixes": [keys[1].prefix, keys[2].prefix]}


def test_a_deleted_actor_is_still_named(tenant: Tenant, ada: User) -> None:
    api_key_issue(tenant=tenant, name="prod", actor=Actor.tenant_admin(ada))
    ada.delete()
    (entry,) = entries(Action.KEY_ISSUED)
    assert entry.actor is None
    assert entry.actor_label == "ada"


def test_member_changes_are_recorded_and_refusals_are_not(
    tenant: Tenant, ada: User, max_: Membership
) -> None:
    actor = Actor.tenant_admin(ada)
    admin_membership = Membership.objects.get(user=ada)
    with pytest.raises(TenantChangeRefused):
        member_role_set(
            tenant=tenant, membership_id=admin_membership.pk, role="member", actor=actor
        )
    member_role_set(tenant=tenant, membership_id=max_.pk, role="member", actor=actor)  # no-op
    assert entries(Action.MEMBER_ROLE_CHANGED) == []

    member_role_set(tenant=tenant, membership_id=max_.pk, role="admin", actor=actor)
    member_remove(tenant=tenant, membership_id=max_.pk, actor=actor)

    (changed,) = entries(Action.MEMBER_ROLE_CHANGED)
    assert changed.details == {"role": {"before": "member", "after": "admin"}}
    assert changed.target.startswith("max ")
    (removed,) = entries(Action.MEMBER_REMOVED)
    assert removed.actor == ada
    assert removed.details == {"user_id": max_.user_id, "role": "admin"}


def test_settings_changes_record_before_and_after(tenant: Tenant, ada: User) -> None:
    actor = Actor.tenant_admin(ada)
    tenant_settings_update(tenant=tenant, name="Acme", output_retention_days=None, actor=actor)
    assert entries(Action.TENANT_SETTINGS_CHANGED) == []
    tenant_settings_update(tenant=tenant, name="Acme Inc", output_retention_days=30, actor=actor)
    (entry,) = entries(Action.TENANT_SETTINGS_CHANGED)
    assert entry.details == {
        "name": {"before": "Acme", "after": "Acme Inc"},
        "output_retention_days": {"before": None, "after": 30},
    }


def test_portal_key_changes_are_recorded_as_the_tenant_admin(
    client: Any, tenant: Tenant, ada: User
) -> None:
    client.force_login(ada)
    client.post(reverse("portal:keys"), {"name": "Production"})
    key = ApiKey.objects.get(name="Production")
    client.post(reverse("portal:key-revoke", args=[key.pk]))

    for action in (Action.KEY_ISSUED, Action.KEY_REVOKED):
        (entry,) = entries(action)
        assert entry.actor == ada
        assert entry.actor_role == AuditEntry.ActorRole.TENANT_ADMIN
        assert key.prefix in entry.target


def test_the_portal_audit_log_shows_the_tenants_entries_without_staff_reasons(
    client: Any, tenant: Tenant, other_tenant: Tenant, ada: User, staff: User
) -> None:
    api_key_issue(tenant=tenant, name="Production", actor=Actor.tenant_admin(ada))
    api_key_issue(tenant=other_tenant, name="TheirSecretApp", actor=SYSTEM)
    api_key_revoke_all(tenant=tenant, actor=Actor.staff(staff), reason="internal ticket 77")
    client.force_login(ada)

    page = client.get(reverse("portal:audit-log"))

    html = page.content.decode()
    assert page.status_code == 200
    assert html.count("<tr data-action=") == 2
    assert "Every API key revoked" in html
    assert "Platform staff" in html
    assert "stella" not in html
    assert "internal ticket 77" not in html
    assert "Production" in html
    assert "TheirSecretApp" not in html
    manage = client.get(reverse("portal:manage")).content.decode()
    assert f'href="{reverse("portal:audit-log")}"' in manage


def test_the_portal_audit_log_is_for_tenant_admins_only(
    client: Any, tenant: Tenant, max_: Membership
) -> None:
    client.force_login(max_.user)
    assert client.get(reverse("portal:audit-log")).status_code == 404
