"""Pushing the ledger to Stripe: every row confirmed exactly once, whatever Stripe does."""

from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from billing.meters import PushReport, push_pending_usage
from billing.models import RunCharge, SubscriptionItem, TenantBilling, UsageRecord
from billing.periods import period_of
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
    accepted = {event["identifier"]: event for event in events}
    for row in rows:
        event = accepted[row.identifier]
        assert event["customer"] == billing.stripe_customer_id
        assert row.metered_price is not None
        assert event["event_name"] == row.metered_price.event_name
        assert row.metered_price.unit_price == row.unit_price
        assert event["value"] == row.seconds
        assert event["timestamp"] == int(row.event_timestamp.timestamp())


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


def test_a_row_first_sent_after_its_periods_grace_hour_is_dated_into_the_open_period(
    tenant: Any, provisioned: TenantBilling, stripe_fake: StripeFake
) -> None:
    run = billable_run(tenant)
    long_ago = timezone.now() - timedelta(days=40)
    UsageRecord.objects.filter(run=run).update(completed_at=long_ago, event_timestamp=long_ago)
    push_pending_usage()
    row = UsageRecord.objects.get(run=run)
    assert row.push_state == Pushed.CONFIRMED
    assert row.event_timestamp > timezone.now() - timedelta(minutes=1)
    (event,) = stripe_fake.meter_events()
    assert event["timestamp"] == int(row.event_timestamp.timestamp())


def test_a_row_first_sent_twenty_hours_ago_goes_to_a_human_not_resent(
    tenant: Any, provisioned: TenantBilling, stripe_fake: StripeFake
) -> None:
    run = billable_run(tenant)
    UsageRecord.objects.filter(run=run).update(
        first_sent_at=timezone.now() - timedelta(hours=20, minutes=1)
    )
    push_pending_usage()
    assert UsageRecord.objects.get(run=run).push_state == Pushed.NEEDS_ATTENTION
    assert stripe_fake.meter_events() == []


def test_each_attempt_sends_its_own_idempotency_key_under_one_identifier(
    tenant: Any, provisioned: TenantBilling, stripe_fake: StripeFake
) -> None:
    stripe_fake.faults.push("500")
    billable_run(tenant)
    push_until_settled()
    row = UsageRecord.objects.get()
    assert row.idempotency_key == f"{row.identifier}/2"
    assert row.push_state == Pushed.CONFIRMED


def test_an_event_is_never_timestamped_before_its_prices_item_was_added(
    tenant: Any, provisioned: TenantBilling, stripe_fake: StripeFake
) -> None:
    run = billable_run(tenant)
    earlier = timezone.now() - timedelta(hours=1)
    UsageRecord.objects.filter(run=run).update(completed_at=earlier, event_timestamp=earlier)
    SubscriptionItem.objects.update(added_at=timezone.now() - timedelta(minutes=5))
    push_pending_usage()
    row = UsageRecord.objects.get(run=run)
    assert (
        row.event_timestamp
        == SubscriptionItem.objects.get(metered_price=row.metered_price).added_at
    )


def test_failed_provisioning_is_retried_on_its_own_schedule_without_new_runs(
    tenant: Any, stripe_fake: StripeFake, settings: Any
) -> None:
    stripe_fake.faults.configure(paths=["/v1/customers"], queue=["500", "500"])
    for _ in range(3):
        billable_run(tenant)
    push_pending_usage()
    assert set(UsageRecord.objects.values_list("push_state", flat=True)) == {Pushed.HELD}
    billing = TenantBilling.objects.get(tenant=tenant)
    assert billing.provision_attempts == 1
    assert billing.next_provision_at is not None
    assert "APIError" in billing.last_provision_error
    push_pending_usage()  # not due yet: no call
    assert TenantBilling.objects.get(tenant=tenant).provision_attempts == 1
    push_pending_usage(now=billing.next_provision_at + timedelta(seconds=1))  # fails again
    billing = TenantBilling.objects.get(tenant=tenant)
    assert billing.provision_attempts == 2
    later = billing.next_provision_at + timedelta(seconds=1)
    push_pending_usage(now=later)
    push_pending_usage(now=later)
    assert set(UsageRecord.objects.values_list("push_state", flat=True)) == {Pushed.CONFIRMED}
    assert TenantBilling.objects.get(tenant=tenant).provision_attempts == 0
    assert len(stripe_fake.meter_events()) == 3


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


def test_a_row_re_dated_into_the_next_period_counts_against_that_periods_caps(
    tenant: Any, provisioned: TenantBilling, stripe_fake: StripeFake
) -> None:
    run = billable_run(tenant)
    long_ago = timezone.now() - timedelta(days=40)
    UsageRecord.objects.filter(run=run).update(completed_at=long_ago, event_timestamp=long_ago)
    RunCharge.objects.filter(run=run).update(period=period_of(long_ago))
    push_pending_usage()
    row = UsageRecord.objects.get(run=run)
    assert RunCharge.objects.get(run=run).period == period_of(row.event_timestamp)
    assert period_of(row.event_timestamp) == period_of(timezone.now())


def test_a_refusal_flagged_before_the_batch_confirms_stands(
    tenant: Any, provisioned: TenantBilling, stripe_fake: StripeFake, monkeypatch: Any
) -> None:
    """Stripe validates within seconds: its error report can flag a row refused between
    the row's 200 and the push batch's one confirming write, which must not undo it."""
    from billing import meters
    from billing.meter_errors import Refusal, _flag

    send = meters.send_rows

    def send_then_refused(client: Any, sendable: Any) -> Any:
        sent = send(client, sendable)
        for row, _outcome in sent:
            _flag(Refusal(row.identifier, "archived_meter", "Meter is inactive."))
        return sent

    monkeypatch.setattr(meters, "send_rows", send_then_refused)
    run = billable_run(tenant)
    push_pending_usage()
    row = UsageRecord.objects.get(run=run)
    assert row.push_state == Pushed.REFUSED
    assert "archived_meter" in row.last_push_error
