"""The billing scenario, end to end through the real SDK against the fake: the ledger, what
each tenant received and Stripe's invoice are the same money, to the cent.

One UTC month on one clock: runs at the first prices, a mid-period price change, a held
video approved later, a run finishing within a minute of the period's end, and a second
tenant whose provisioning fails and recovers without it making another run.
"""

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from billing.meters import push_pending_usage
from billing.models import TenantBilling, UsageRecord
from billing.periods import month_start, next_month_start
from billing.provisioning import stripe_provision
from billing.reconcile import billing_reconcile
from billing.selectors import ledger_invoice_lines
from billing.stripe_client import stripe_client
from billing.stripe_fake import StripeFake
from billing.stripe_reads import invoice_line_cents_by_rate
from seedance.moderation import run_approve
from tests.billing.conftest import Clock
from tests.billing.factories import billable_run, new_price

Pushed = UsageRecord.PushState
FIRST_720P, FIRST_480P, NEW_720P = Decimal("0.2419"), Decimal("0.108"), Decimal("0.3")


@pytest.fixture
def reviewer(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user(username="reviewer", is_staff=True)


def stripe_lines(tenant: Any, start: datetime, clock: Clock) -> dict[tuple[str, Decimal], int]:
    """Cents per (resolution, unit price) Stripe bills the tenant for the period starting
    at ``start``: the preview while it is open, the period's invoice afterwards."""
    billing = TenantBilling.objects.get(tenant=tenant)
    return invoice_line_cents_by_rate(stripe_client(), billing, start, clock.now())


def states_of(tenant: Any) -> set[str]:
    return set(UsageRecord.objects.filter(tenant=tenant).values_list("push_state", flat=True))


def ledger_lines(tenant: Any, start: datetime) -> dict[tuple[str, Decimal], int]:
    lines = ledger_invoice_lines(tenant=tenant, start=start, end=next_month_start(start))
    return {(line.resolution, line.unit_price): line.cents for line in lines}


def test_ledger_lines_equal_stripes_invoice_lines_to_the_cent_over_a_month(
    tenant: Any,
    other_tenant: Any,
    clocked_stripe: StripeFake,
    clock: Clock,
    reviewer: Any,
    settings: Any,
) -> None:
    settings.SEEDANCE = {**settings.SEEDANCE, "BILL_REJECTED": False}
    if next_month_start(clock.now()) - clock.now() < timedelta(hours=1):
        clock.set(next_month_start(clock.now()) + timedelta(hours=2))  # a whole month ahead
    start = month_start(clock.now())
    period_end = next_month_start(start)
    client = stripe_client()
    stripe_provision(client=client, tenants=[tenant], now=clock.now())
    # The other tenant's customer call fails twice: its usage waits, then goes out alone.
    clocked_stripe.faults.configure(paths=["/v1/customers"], queue=["500", "500"])

    for duration in ("15", "15", "4"):  # 34 s at $0.2419: $8.2246, invoiced $8.22
        billable_run(tenant, duration=duration)
    billable_run(tenant, duration="9", resolution="480p")  # $0.972, invoiced $0.97
    billable_run(other_tenant, duration="5")
    billable_run(other_tenant, duration="6", resolution="480p")
    push_pending_usage(now=clock.advance(seconds=5))
    assert set(
        UsageRecord.objects.filter(tenant=other_tenant).values_list("push_state", flat=True)
    ) == {Pushed.HELD}

    # Mid-period price change: its item is on the subscription before a run is sold at it.
    new_price(tenant, "720p", str(NEW_720P))
    push_pending_usage(now=clock.advance(minutes=1))
    held = billable_run(tenant, duration="5", nsfw_detected=True)
    assert UsageRecord.objects.get(run=held).push_state == Pushed.WAITING
    assert UsageRecord.objects.get(run=held).unit_price == NEW_720P
    run_approve(run_id=held.pk, decided_by=reviewer)
    push_pending_usage(now=clock.advance(minutes=1))

    # Recovery without new runs: provisioning is retried on its own backoff.
    for _ in range(3):
        push_pending_usage(now=clock.advance(minutes=10))
    assert set(
        UsageRecord.objects.filter(tenant=other_tenant).values_list("push_state", flat=True)
    ) == {Pushed.CONFIRMED}
    assert TenantBilling.objects.get(tenant=other_tenant).provision_attempts == 0

    # A run finishing 50 s before the period ends, sent 10 s later: this period bills it.
    clock.set(period_end - timedelta(seconds=50))
    last = billable_run(tenant, duration="5")
    UsageRecord.objects.filter(run=last).update(
        completed_at=clock.now(), event_timestamp=clock.now()
    )
    push_pending_usage(now=clock.advance(seconds=10))
    assert UsageRecord.objects.get(run=last).event_timestamp < period_end
    assert not UsageRecord.objects.exclude(push_state=Pushed.CONFIRMED).exists()

    expected = {("720p", FIRST_720P): 822, ("480p", FIRST_480P): 97, ("720p", NEW_720P): 300}
    assert ledger_lines(tenant, start) == expected
    clock.advance(seconds=20)  # still inside the period: Stripe's preview
    assert stripe_lines(tenant, start, clock) == expected
    assert sum(expected.values()) == 1219  # $12.19, not the exact total's $12.20 ($12.1966)
    assert billing_reconcile(client=client, now=clock.now()).clean

    # After the period and its grace hour: Stripe's invoice for it.
    clock.set(period_end + timedelta(hours=2))
    report = billing_reconcile(client=client, now=clock.now(), periods=[start.date()])
    assert report.clean, report.differences
    assert report.matched == 5  # three prices for one tenant, two for the other
    for each in (tenant, other_tenant):
        assert ledger_lines(each, start) == stripe_lines(each, start, clock)
    assert not UsageRecord.objects.filter(counted_at__isnull=True).exists()
