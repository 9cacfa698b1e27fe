"""Billing a held run: by default a rejected video is billed (Runflow charged for it); when
rejected runs are not billed, a held run's usage waits for the decision, then is sent or
voided, and the API's ``billable`` says which. Whatever the order of review and delivery,
nothing is pushed before the run is delivered, and an undelivered run never is."""

from typing import Any

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from billing.meters import push_pending_usage
from billing.models import RunCharge, TenantBilling, UsageRecord
from billing.provisioning import stripe_provision
from billing.stripe_client import stripe_client
from billing.stripe_fake import StripeFake
from seedance.models import Run, Tenant
from seedance.moderation import run_approve, run_reject
from seedance.outputs import outputs_copy
from seedance.run_input import RunInput
from seedance.services.runs import run_create
from seedance.states import Delivery
from seedance.transitions import run_mark_undeliverable
from tests.billing.factories import billable_run
from tests.factories import deliver, finish_successfully

pytestmark = pytest.mark.django_db
Pushed = UsageRecord.PushState


@pytest.fixture
def staff(db: None) -> User:
    return User.objects.create_user("reviewer", is_staff=True)


@pytest.fixture
def provisioned(tenant: Tenant, stripe_fake: StripeFake, settings: Any) -> TenantBilling:
    settings.BILLING = {**settings.BILLING, "PUSH_MAX_BACKOFF_SECONDS": 0}
    stripe_provision(client=stripe_client())
    return TenantBilling.objects.get(tenant=tenant)


@pytest.fixture
def rejected_not_billed(settings: Any) -> None:
    settings.SEEDANCE = {**settings.SEEDANCE, "BILL_REJECTED": False}


def row_of(run: Run) -> UsageRecord:
    return UsageRecord.objects.get(run=run)


def billable(api_client: APIClient, run: Run) -> Any:
    return api_client.get(f"/api/v1/runs/{run.pk}").json()["billable"]


def sent_identifiers(stripe_fake: StripeFake) -> set[str]:
    return {event["identifier"] for event in stripe_fake.meter_events() if not event["canceled"]}


# Default: rejected runs are billed ------------------------------------------------------


def test_by_default_a_held_runs_usage_is_pending_and_billed_even_if_rejected(
    tenant: Tenant, staff: User, api_client: APIClient, provisioned: TenantBilling, stripe_fake: Any
) -> None:
    run = billable_run(tenant, nsfw_detected=True)
    assert run.moderation == Run.Moderation.PENDING
    assert row_of(run).push_state == Pushed.PENDING
    assert billable(api_client, run) is True

    assert run_reject(run_id=run.pk, decided_by=staff, reason="explicit")

    row = row_of(run)
    assert row.push_state == Pushed.PENDING
    assert row.amount > 0
    assert RunCharge.objects.get(run=run).amount == row.amount
    assert billable(api_client, run) is True
    push_pending_usage()
    assert row_of(run).push_state == Pushed.CONFIRMED
    assert row.identifier in sent_identifiers(stripe_fake)


# BILL_REJECTED off: the row waits for the decision ----------------------------------------


def test_held_runs_usage_waits_and_is_never_pushed_before_the_decision(
    tenant: Tenant,
    rejected_not_billed: None,
    api_client: APIClient,
    provisioned: TenantBilling,
    stripe_fake: Any,
) -> None:
    run = billable_run(tenant, nsfw_detected=True)

    assert row_of(run).push_state == Pushed.WAITING
    push_pending_usage()

    assert row_of(run).push_state == Pushed.WAITING
    assert stripe_fake.meter_events() == []
    assert billable(api_client, run) is None


def test_approved_runs_waiting_usage_becomes_pending_and_is_pushed(
    tenant: Tenant,
    rejected_not_billed: None,
    staff: User,
    api_client: APIClient,
    provisioned: TenantBilling,
    stripe_fake: Any,
) -> None:
    run = billable_run(tenant, nsfw_detected=True)

    assert run_approve(run_id=run.pk, decided_by=staff, reason="fine")

    row = row_of(run)
    assert row.push_state == Pushed.PENDING
    assert billable(api_client, run) is True
    push_pending_usage()
    assert row_of(run).push_state == Pushed.CONFIRMED
    assert sent_identifiers(stripe_fake) == {row.identifier}


def test_rejected_runs_waiting_usage_is_voided_and_its_charge_is_zero(
    tenant: Tenant,
    rejected_not_billed: None,
    staff: User,
    api_client: APIClient,
    provisioned: TenantBilling,
    stripe_fake: Any,
) -> None:
    run = billable_run(tenant, nsfw_detected=True)

    assert run_reject(run_id=run.pk, decided_by=staff, reason="explicit")

    assert row_of(run).push_state == Pushed.VOIDED
    assert RunCharge.objects.get(run=run).amount == 0
    assert billable(api_client, run) is False
    push_pending_usage()
    assert row_of(run).push_state == Pushed.VOIDED
    assert stripe_fake.meter_events() == []


def test_unheld_run_is_billed_at_once_whatever_the_setting(
    tenant: Tenant, rejected_not_billed: None, api_client: APIClient
) -> None:
    run = billable_run(tenant, nsfw_detected=False)

    assert row_of(run).push_state == Pushed.PENDING
    assert billable(api_client, run) is True


def test_a_second_decision_does_not_change_the_usage_row(
    tenant: Tenant, rejected_not_billed: None, staff: User
) -> None:
    run = billable_run(tenant, nsfw_detected=True)
    run_approve(run_id=run.pk, decided_by=staff, reason="fine")

    assert not run_reject(run_id=run.pk, decided_by=staff, reason="changed my mind")

    assert row_of(run).push_state == Pushed.PENDING
    assert RunCharge.objects.get(run=run).amount > 0


# Delivery and review, in either order ----------------------------------------------------


def held_not_yet_copied(tenant: Tenant) -> Run:
    values = {"prompt": "a lantern on a lake", "duration": "5", "resolution": "720p"}
    run, _ = run_create(tenant=tenant, run_input=RunInput(**values))
    return finish_successfully(run, nsfw_detected=True, delivered=False)


def test_approved_before_its_copy_is_pushed_only_once_delivered(
    tenant: Tenant,
    rejected_not_billed: None,
    staff: User,
    provisioned: TenantBilling,
    stripe_fake: Any,
) -> None:
    run = held_not_yet_copied(tenant)
    assert run_approve(run_id=run.pk, decided_by=staff, reason="fine")
    assert row_of(run).push_state == Pushed.AWAITING_DELIVERY
    push_pending_usage()
    assert stripe_fake.meter_events() == []

    deliver(run)

    assert row_of(run).push_state == Pushed.PENDING
    push_pending_usage()
    assert sent_identifiers(stripe_fake) == {row_of(run).identifier}


@pytest.mark.parametrize("bill_rejected", [True, False])
def test_rejected_before_its_copy_is_never_pushed_whatever_the_setting(
    tenant: Tenant,
    staff: User,
    provisioned: TenantBilling,
    stripe_fake: Any,
    settings: Any,
    bill_rejected: bool,
) -> None:
    settings.SEEDANCE = {**settings.SEEDANCE, "BILL_REJECTED": bill_rejected}
    run = held_not_yet_copied(tenant)

    assert run_reject(run_id=run.pk, decided_by=staff, reason="explicit")
    outputs_copy(run.pk)  # the copy refuses a rejected video: it is never delivered

    assert Run.objects.get(pk=run.pk).delivery == Delivery.UNAVAILABLE
    assert row_of(run).push_state == Pushed.VOIDED
    assert RunCharge.objects.get(run=run).amount == 0
    push_pending_usage()
    assert stripe_fake.meter_events() == []


def test_delivered_then_rejected_is_billed_by_default(
    tenant: Tenant, staff: User, provisioned: TenantBilling, stripe_fake: Any
) -> None:
    run = deliver(held_not_yet_copied(tenant))
    assert row_of(run).push_state == Pushed.PENDING

    assert run_reject(run_id=run.pk, decided_by=staff, reason="explicit")

    push_pending_usage()
    assert sent_identifiers(stripe_fake) == {row_of(run).identifier}


def test_held_run_whose_copy_failed_for_good_stays_voided_when_approved(
    tenant: Tenant, rejected_not_billed: None, staff: User, api_client: APIClient
) -> None:
    run = held_not_yet_copied(tenant)
    assert run_mark_undeliverable(run.pk, reason="output 0: the source answered HTTP 404")
    assert billable(api_client, run) is False

    assert run_approve(run_id=run.pk, decided_by=staff, reason="fine")

    assert row_of(run).push_state == Pushed.VOIDED
    body = api_client.get(f"/api/v1/runs/{run.pk}").json()
    assert (body["status"], body["failure"]["code"]) == ("failed", "output_unavailable")
