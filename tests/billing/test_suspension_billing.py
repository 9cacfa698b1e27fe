"""Money across a suspension: a run already at Runflow finishes, is delivered and billed
exactly once; a run never sent is canceled and its reservation released, never billed.
Cap changes (portal and admin) are in the audit log."""

from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from billing.meters import push_pending_usage
from billing.models import EndUserLimit, RunCharge, TenantBilling, UsageRecord
from billing.provisioning import stripe_provision
from billing.stripe_client import stripe_client
from billing.stripe_fake import StripeFake
from seedance.audit import Actor
from seedance.models import AuditEntry, Membership, Run, Tenant
from seedance.outcomes import TENANT_SUSPENDED
from seedance.outputs import outputs_copy
from seedance.run_input import RunInput
from seedance.sandbox import SandboxServer
from seedance.services.runs import run_create
from seedance.services.submission import run_submit
from seedance.services.suspension import tenant_suspend
from seedance.states import Delivery, RunStatus
from tests.conftest import totp_enrol
from tests.fixtures.services import wait_for_run

Action = AuditEntry.Action


def create(tenant: Tenant) -> Run:
    run, _ = run_create(
        tenant=tenant, run_input=RunInput(prompt="a heron at dawn", duration="4", resolution="480p")
    )
    return run


@pytest.fixture
def staff(db: None) -> User:
    user = User.objects.create_superuser("stella", "stella@example.com", "pw-not-used-0")
    totp_enrol(user)  # staff open the admin only with TOTP
    return user


@pytest.mark.django_db(transaction=True)
def test_a_submitted_run_finishes_and_is_billed_once_an_unsubmitted_one_never(
    tenant: Tenant, staff: User, sandbox: SandboxServer, stripe_fake: StripeFake, settings: Any
) -> None:
    settings.BILLING = {**settings.BILLING, "PUSH_MAX_BACKOFF_SECONDS": 0}
    stripe_provision(client=stripe_client())
    submitted = create(tenant)
    run_submit(submitted.pk)
    unsubmitted = create(tenant)

    tenant_suspend(tenant=tenant, actor=Actor.staff(staff), reason="fraud review")

    unsubmitted.refresh_from_db()
    assert (unsubmitted.status, unsubmitted.failure_code) == (RunStatus.CANCELED, TENANT_SUSPENDED)
    assert sandbox.count_runs(client_ref=str(unsubmitted.pk)) == 0
    released = RunCharge.objects.get(run=unsubmitted)
    assert (released.state, released.amount) == (RunCharge.State.RELEASED, Decimal(0))
    assert not UsageRecord.objects.filter(run=unsubmitted).exists()

    assert wait_for_run(submitted).status == RunStatus.SUCCEEDED  # its callback still lands
    outputs_copy(submitted.pk)  # the copy goes on: billed means delivered
    submitted.refresh_from_db()
    assert submitted.delivery == Delivery.DELIVERED
    push_pending_usage()
    push_pending_usage()

    (record,) = UsageRecord.objects.filter(tenant=tenant)
    assert record.run_id == submitted.pk
    assert record.seconds == 4
    assert record.push_state == UsageRecord.PushState.CONFIRMED
    sent = [event["identifier"] for event in stripe_fake.meter_events()]
    assert sent == [record.identifier]
    assert RunCharge.objects.get(run=submitted).state == RunCharge.State.SETTLED


@pytest.fixture
def ada_client(client: Client, tenant: Tenant) -> Client:
    ada = User.objects.create_user("ada", email="ada@example.com")
    Membership.objects.create(user=ada, tenant=tenant, role=Membership.Role.ADMIN)
    client.force_login(ada)
    return client


@pytest.mark.django_db
def test_cap_changes_in_the_portal_are_recorded_before_and_after(
    ada_client: Client, tenant: Tenant
) -> None:
    caps = reverse("billing_portal:caps")
    form = {"monthly_spend_cap": "100", "max_in_flight_runs": "3", "end_user_monthly_spend_cap": ""}
    ada_client.post(caps, form)
    ada_client.post(caps, form)  # the same values: nothing changed, nothing recorded
    ada_client.post(caps, {**form, "max_in_flight_runs": "5"})

    first, second = AuditEntry.objects.filter(action=Action.CAP_CHANGED).order_by("id")
    assert first.actor_label == "ada"
    assert first.actor_role == AuditEntry.ActorRole.TENANT_ADMIN
    assert first.details == {
        "monthly_spend_cap": {"before": None, "after": "100"},
        "max_in_flight_runs": {"before": None, "after": 3},
    }
    assert second.details == {"max_in_flight_runs": {"before": 3, "after": 5}}


@pytest.mark.django_db
def test_end_user_limits_set_and_removed_are_recorded(ada_client: Client, tenant: Tenant) -> None:
    add = reverse("billing_portal:end-user-limit-add")
    ada_client.post(add, {"end_user_id": "42", "monthly_spend_cap": "10"})
    ada_client.post(add, {"end_user_id": "42", "monthly_spend_cap": "12.50"})
    limit = EndUserLimit.objects.get(tenant=tenant, end_user_id="42")
    ada_client.post(reverse("billing_portal:end-user-limit-remove", args=[limit.pk]))

    set_entries = AuditEntry.objects.filter(action=Action.END_USER_LIMIT_SET).order_by("id")
    assert [entry.details for entry in set_entries] == [
        {"monthly_spend_cap": {"before": None, "after": "10"}},
        {"monthly_spend_cap": {"before": "10.000000", "after": "12.50"}},
    ]
    assert all(entry.target == "42" for entry in set_entries)
    removed = AuditEntry.objects.get(action=Action.END_USER_LIMIT_REMOVED)
    assert removed.details == {"monthly_spend_cap": {"before": "12.500000", "after": None}}


@pytest.mark.django_db
def test_staff_change_caps_in_the_admin_only_with_a_reason(
    client: Client, staff: User, tenant: Tenant
) -> None:
    client.force_login(staff)
    billing, _ = TenantBilling.objects.get_or_create(tenant=tenant)
    url = f"/admin/billing/tenantbilling/{tenant.pk}/change/"
    form = {"monthly_spend_cap": "250", "max_in_flight_runs": "", "end_user_monthly_spend_cap": ""}

    assert client.post(url, form).status_code == 200  # no reason: the form says so
    billing.refresh_from_db()
    assert billing.monthly_spend_cap is None

    assert client.post(url, {**form, "reason": "enterprise contract"}).status_code == 302
    billing.refresh_from_db()
    assert billing.monthly_spend_cap == Decimal(250)
    entry = AuditEntry.objects.get(action=Action.CAP_CHANGED)
    assert (entry.actor, entry.actor_role, entry.reason) == (staff, "staff", "enterprise contract")
    assert entry.details == {"monthly_spend_cap": {"before": None, "after": "250"}}
