"""Reconciliation: the ledger against Stripe's own meter summaries and invoice lines."""

from typing import Any

import pytest
from django.core.management import call_command

from billing.meters import push_pending_usage
from billing.models import BillingDifference, UsageRecord
from billing.periods import period_of
from billing.provisioning import stripe_provision
from billing.reconcile import billing_reconcile
from billing.stripe_client import stripe_client
from billing.stripe_fake import StripeFake
from tests.billing.conftest import Clock
from tests.billing.factories import billable_run

Pushed = UsageRecord.PushState


def meter_event_posts(fake: StripeFake) -> int:
    return sum(1 for r in fake.request_log if r["path"] == "/v1/billing/meter_events")


def test_matching_windows_mark_every_row_counted_and_the_command_exits_zero(
    tenant: Any, clocked_stripe: StripeFake, clock: Clock, capsys: Any
) -> None:
    stripe_provision(client=stripe_client(), now=clock.now())
    runs = [billable_run(tenant), billable_run(tenant, resolution="480p", duration="9")]
    push_pending_usage(now=clock.now())
    clock.advance(minutes=2)
    report = billing_reconcile(client=stripe_client(), now=clock.now())
    assert report.clean
    assert report.matched == 2
    assert all(row.counted_at for row in UsageRecord.objects.filter(run__in=runs))
    call_command("billing_reconcile")
    assert "2 matched, 0 different" in capsys.readouterr().out


def test_an_event_stripe_recorded_before_we_heard_back_is_found_counted_25_hours_later(
    tenant: Any, clocked_stripe: StripeFake, clock: Clock
) -> None:
    """Stripe recorded the event, the answer never reached us (as if we crashed), and
    25 h later Stripe's dedupe is gone: reconciliation settles the row, nothing resends."""
    stripe_provision(client=stripe_client(), now=clock.now())
    run = billable_run(tenant)
    clocked_stripe.faults.push("drop_after_record")
    push_pending_usage(now=clock.now())
    row = UsageRecord.objects.get(run=run)
    assert (row.push_state, row.first_sent_at is not None) == (Pushed.PENDING, True)

    clock.advance(hours=25)
    push_pending_usage(now=clock.now())
    row.refresh_from_db()
    assert row.push_state == Pushed.NEEDS_ATTENTION  # never resent after the dedupe window
    report = billing_reconcile(
        client=stripe_client(), now=clock.now(), periods=[period_of(row.event_timestamp)]
    )
    row.refresh_from_db()
    assert report.clean
    assert (row.push_state, row.counted_at is not None) == (Pushed.CONFIRMED, True)
    assert meter_event_posts(clocked_stripe) == 1
    assert [e["identifier"] for e in clocked_stripe.meter_events()] == [row.identifier]


def test_a_lost_event_one_recent_row_explains_is_resent_with_the_same_identifier(
    tenant: Any, clocked_stripe: StripeFake, clock: Clock
) -> None:
    stripe_provision(client=stripe_client(), now=clock.now())
    run = billable_run(tenant)
    push_pending_usage(now=clock.now())
    row = UsageRecord.objects.get(run=run)
    # Stripe lost it (an adjustment canceled it, say): the ledger says 5 s, Stripe 0.
    stripe_client().v1.billing.meter_event_adjustments.create(
        params={
            "event_name": row.metered_price.event_name,  # type: ignore[union-attr]
            "type": "cancel",
            "cancel": {"identifier": row.identifier},
        }
    )
    clock.advance(minutes=2)
    report = billing_reconcile(client=stripe_client(), now=clock.now())
    assert report.resent == 1
    row.refresh_from_db()
    assert row.push_state == Pushed.PENDING
    assert BillingDifference.objects.get().state == BillingDifference.State.RESENT


def test_stripe_counting_more_than_the_ledger_goes_to_a_person_and_the_command_exits_one(
    tenant: Any, clocked_stripe: StripeFake, clock: Clock, capsys: Any
) -> None:
    stripe_provision(client=stripe_client(), now=clock.now())
    run = billable_run(tenant)
    push_pending_usage(now=clock.now())
    row = UsageRecord.objects.get(run=run)
    UsageRecord.objects.filter(pk=row.pk).update(seconds=4)  # the ledger says less
    clock.advance(minutes=2)
    with pytest.raises(SystemExit) as exited:
        call_command("billing_reconcile")
    assert exited.value.code == 1
    difference = BillingDifference.objects.get(state=BillingDifference.State.OPEN)
    assert (difference.ledger_value, difference.stripe_value) == (4, 5)
    assert "adjustment" in difference.action
    assert "DIFFERENCE acme" in capsys.readouterr().out
