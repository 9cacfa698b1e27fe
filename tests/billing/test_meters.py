"""Pushing the ledger to Stripe: every row confirmed exactly once, whatever Stripe does."""

from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from billing.meters import PushReport, push_pending_usage
from billing.models import StripeMeter, TenantBilling, UsageRecord
from billing.provisioning import stripe_provision
from billing.stripe_client import stripe_client
from billing.stripe_fake import StripeFake
from tests.billing.factories import billable_run

Pushed = UsageRecord.PushState


@pytest.fixture
def provisioned(tenant: Any, stripe_fake: StripeFake, settings: Any) -> TenantBilling:
    settings.BILLING = {**settings.BILLING, "PUSH_MAX_BACKOFF_SECONDS": 0}
    stripe_provision(client=stripe_client())
    return TenantBilling.objects.get(tenant=tenant)


def push_until_settled(rounds: int = 200) -> None:
    for _ in range(rounds):
        push_pending_usage()
        if not UsageRecord.objects.filter(push_state=Pushed.PENDING).exists():
            return
    raise AssertionError("rows still pending")


def assert_one_accepted_event_per_row(fake: StripeFake, billing: TenantBilling) -> None:
    events = [event for event in fake.meter_events() if not event["canceled"]]
    by_identifier = Counter(event["identifier"] for event in events)
    rows = list(UsageRecord.objects.all())
    assert {row.identifier for row in rows} == set(by_identifier)
    assert set(by_identifier.values()) == {1}
    meters = {m.resolution: m.event_name for m in StripeMeter.objects.all()}
    accepted = {event["identifier"]: event for event in events}
    for row in rows:
        event = accepted[row.identifier]
        assert event["customer"] == billing.stripe_customer_id
        assert event["event_name"] == meters[row.resolution]
        assert event["value"] == row.seconds
        assert event["timestamp"] == int(row.completed_at.timestamp())


def test_pushed_row_is_confirmed_with_its_run_as_identifier(
    tenant: Any, provisioned: TenantBilling, stripe_fake: StripeFake
) -> None:
    run = billable_run(tenant, end_user_id="alice")
    push_pending_usage()
    row = UsageRecord.objects.get(run=run)
    assert row.push_state == Pushed.CONFIRMED
    assert row.identifier.endswith(str(run.pk))
    assert_one_accepted_event_per_row(stripe_fake, provisioned)


def test_duplicate_identifier_answer_counts_as_confirmed(
    tenant: Any, provisioned: TenantBilling, stripe_fake: StripeFake
) -> None:
    run = billable_run(tenant)
    push_pending_usage()
    UsageRecord.objects.filter(run=run).update(
        push_state=Pushed.PENDING, next_push_at=timezone.now()
    )
    push_pending_usage()
    assert UsageRecord.objects.get(run=run).push_state == Pushed.CONFIRMED
    assert len(stripe_fake.meter_events()) == 1


def test_first_billable_run_creates_the_tenants_customer_and_subscription_on_demand(
    tenant: Any, stripe_fake: StripeFake
) -> None:
    billable_run(tenant)
    push_pending_usage()
    billing = TenantBilling.objects.get(tenant=tenant)
    assert billing.stripe_customer_id
    assert billing.subscription_status == TenantBilling.SubscriptionStatus.ACTIVE
    assert UsageRecord.objects.get().push_state == Pushed.CONFIRMED
    assert len(stripe_fake.subscriptions()) == 1


def test_rows_of_a_canceled_subscription_are_held_not_sent(
    tenant: Any, provisioned: TenantBilling, stripe_fake: StripeFake
) -> None:
    TenantBilling.objects.filter(pk=provisioned.pk).update(
        subscription_status=TenantBilling.SubscriptionStatus.CANCELED
    )
    billable_run(tenant)
    push_pending_usage()
    assert UsageRecord.objects.get().push_state == Pushed.HELD
    assert stripe_fake.meter_events() == []


def test_rows_of_a_tenant_without_subscription_are_held_then_sent_once_subscribed(
    tenant: Any, stripe_fake: StripeFake, settings: Any
) -> None:
    settings.BILLING = {
        **settings.BILLING,
        "PUSH_MAX_BACKOFF_SECONDS": 0,
        "AUTO_PROVISION": False,
    }
    billable_run(tenant)
    push_pending_usage()
    row = UsageRecord.objects.get()
    assert row.push_state == Pushed.HELD
    assert "subscription" in row.last_push_error
    assert stripe_fake.meter_events() == []
    stripe_provision(client=stripe_client())
    push_pending_usage()
    assert UsageRecord.objects.get().push_state == Pushed.CONFIRMED


def test_without_a_stripe_key_the_ledger_fills_and_nothing_is_sent(
    tenant: Any, stripe_fake: StripeFake, settings: Any
) -> None:
    settings.BILLING = {**settings.BILLING, "STRIPE_API_KEY": ""}
    billable_run(tenant)
    assert push_pending_usage() == PushReport()
    assert UsageRecord.objects.get().push_state == Pushed.PENDING
    assert stripe_fake.request_log == []


def test_row_older_than_stripes_window_goes_to_a_human(
    tenant: Any, provisioned: TenantBilling, stripe_fake: StripeFake
) -> None:
    run = billable_run(tenant)
    UsageRecord.objects.filter(run=run).update(completed_at=timezone.now() - timedelta(days=36))
    push_pending_usage()
    assert UsageRecord.objects.get(run=run).push_state == Pushed.NEEDS_ATTENTION
    assert stripe_fake.meter_events() == []


def test_row_unknown_for_twenty_hours_goes_to_a_human_not_resent(
    tenant: Any, provisioned: TenantBilling, stripe_fake: StripeFake
) -> None:
    run = billable_run(tenant)
    UsageRecord.objects.filter(run=run).update(
        outcome_unknown_since=timezone.now() - timedelta(hours=20, minutes=1)
    )
    push_pending_usage()
    assert UsageRecord.objects.get(run=run).push_state == Pushed.NEEDS_ATTENTION
    assert stripe_fake.meter_events() == []


@pytest.mark.parametrize("kind", ["500", "429", "timeout_after_record", "drop_after_record"])
def test_each_fault_is_retried_into_exactly_one_event(
    tenant: Any, provisioned: TenantBilling, stripe_fake: StripeFake, settings: Any, kind: str
) -> None:
    settings.BILLING = {**settings.BILLING, "STRIPE_TIMEOUT": 0.3}
    stripe_fake.faults.configure(timeout_seconds=1.0)
    stripe_fake.faults.push(kind)
    billable_run(tenant)
    push_until_settled()
    assert UsageRecord.objects.get().push_state == Pushed.CONFIRMED
    assert_one_accepted_event_per_row(stripe_fake, provisioned)


def test_five_hundred_runs_under_faults_on_a_third_of_calls_are_each_billed_once(
    tenant: Any, provisioned: TenantBilling, stripe_fake: StripeFake, settings: Any
) -> None:
    settings.BILLING = {**settings.BILLING, "STRIPE_TIMEOUT": 0.2, "PUSH_BATCH_SIZE": 100}
    stripe_fake.faults.configure(
        error_rate=1 / 3,
        seed=7,
        kinds=["500", "429", "timeout_after_record"],
        timeout_seconds=0.5,
    )
    for index in range(500):
        billable_run(
            tenant, resolution="480p" if index % 3 else "720p", end_user_id=f"user-{index % 7}"
        )
    push_until_settled()
    assert set(UsageRecord.objects.values_list("push_state", flat=True)) == {Pushed.CONFIRMED}
    assert UsageRecord.objects.count() == 500
    assert_one_accepted_event_per_row(stripe_fake, provisioned)
    injected = stripe_fake.faults.injected()
    assert all(injected.get(kind, 0) > 20 for kind in ("500", "429", "timeout_after_record"))
