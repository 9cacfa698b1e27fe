"""An error report names a few refusals; the rest are judged from the summaries once they
have settled, per customer and minute: all refused, exactly the shortfall, or a person."""

from datetime import timedelta
from typing import Any

import pytest

from billing.meter_error_check import meter_error_reports_check
from billing.meter_errors import usage_resend_refused
from billing.meters import push_pending_usage
from billing.models import MeteredPrice, MeterErrorReport, UsageRecord
from billing.provisioning import stripe_provision
from billing.reconcile import billing_reconcile
from billing.stripe_client import stripe_client
from billing.stripe_fake import StripeFake
from seedance.models import Tenant
from tests.billing.conftest import Clock, wait_for
from tests.billing.factories import billable_run

Pushed = UsageRecord.PushState
SETTLE = 120


@pytest.fixture
def minute(tenant: Tenant, destination: StripeFake, clock: Clock, settings: Any) -> Any:
    """Provisioned at the start of a minute, so every row sent in the test shares it; the
    summaries lag a minute behind receipt, as Stripe's do, and settle in two; Stripe
    reports the errors when the test flushes it, in one report."""
    settings.BILLING = {**settings.BILLING, "SUMMARY_SETTLE_SECONDS": SETTLE}
    now = clock.now()
    clock.set(now.replace(second=0, microsecond=0) + timedelta(minutes=1, seconds=1))
    destination.config.configure(summary_lag_seconds=60, report_delay_seconds=3600)
    stripe_provision(client=stripe_client(), now=clock.now())
    return clock.now()


def send(tenant: Tenant, clock: Clock, *durations: int) -> list[UsageRecord]:
    """Runs of these lengths, their rows stamped inside the test's minute, pushed."""
    runs = [billable_run(tenant, duration=str(seconds), resolution="720p") for seconds in durations]
    UsageRecord.objects.filter(run__in=runs).update(event_timestamp=clock.now())
    push_pending_usage(now=clock.now())
    rows = [UsageRecord.objects.get(run=run) for run in runs]
    assert {row.push_state for row in rows} == {Pushed.CONFIRMED}  # 200: accepted, not billed
    return rows


def meter(action: str) -> None:
    meter_id = MeteredPrice.objects.get(resolution="720p").meter_id
    getattr(stripe_client().v1.billing.meters, action)(meter_id)


def reported(fake: StripeFake, *, named: int) -> MeterErrorReport:
    """Stripe's validation runs; its report, naming ``named`` samples, reaches us."""
    fake.config.configure(sample_errors=named)
    fake.flush()
    wait_for(lambda: MeterErrorReport.objects.exists())
    return MeterErrorReport.objects.get()


def check_after_settling(clock: Clock) -> int:
    clock.advance(seconds=SETTLE + 1)
    return meter_error_reports_check(client=stripe_client(), now=clock.now())


def states(rows: list[UsageRecord]) -> list[str]:
    return [UsageRecord.objects.get(pk=row.pk).push_state for row in rows]


@pytest.mark.django_db(transaction=True)
def test_named_rows_are_flagged_at_once_and_unnamed_ones_wait_for_the_summaries(
    tenant: Tenant, destination: StripeFake, clock: Clock, minute: Any
) -> None:
    (accepted,) = send(tenant, clock, 5)
    meter("deactivate")
    refused = send(tenant, clock, 5, 5)
    report = reported(destination, named=1)

    assert (report.error_count, report.unnamed_errors, report.rows_flagged) == (2, 1, 1)
    assert states([accepted, *refused]).count(Pushed.REFUSED) == 1
    assert states(refused).count(Pushed.REFUSED) == 1  # the sample Stripe named
    # Stripe has summed nothing yet (it lags): "counted 0" now would flag the accepted row.
    assert meter_error_reports_check(client=stripe_client(), now=clock.now()) == 0
    assert states([accepted, *refused]).count(Pushed.REFUSED) == 1
    assert MeterErrorReport.objects.get().checked_at is None

    assert check_after_settling(clock) == 1
    # 5 s counted of our 10 s: one of the two 5 s rows, which Stripe cannot tell apart.
    assert states([accepted, *refused]).count(Pushed.REFUSED) == 2
    report.refresh_from_db()
    assert report.checked_at is not None
    assert not report.needs_person
    assert report.rows_flagged == 2

    meter("reactivate")
    flagged = UsageRecord.objects.filter(push_state=Pushed.REFUSED)
    before = {row.pk: row.identifier for row in flagged}
    assert usage_resend_refused(flagged) == 2
    push_pending_usage(now=clock.now())
    for pk, identifier in before.items():
        resent = UsageRecord.objects.get(pk=pk)
        assert resent.identifier == f"{identifier}:2"
        assert resent.refused_identifiers == [identifier]
        assert resent.push_state == Pushed.CONFIRMED
    clock.advance(minutes=2)
    assert billing_reconcile(client=stripe_client(), now=clock.now()).clean


@pytest.mark.django_db(transaction=True)
def test_a_minute_stripe_counted_nothing_of_is_refused_whole(
    tenant: Tenant, destination: StripeFake, clock: Clock, minute: Any
) -> None:
    meter("deactivate")
    rows = send(tenant, clock, 5, 8)
    report = reported(destination, named=0)
    assert report.unnamed_errors == 2
    assert states(rows) == [Pushed.CONFIRMED] * 2

    assert check_after_settling(clock) == 2
    assert states(rows) == [Pushed.REFUSED] * 2
    assert MeterErrorReport.objects.get().rows_flagged == 2


@pytest.mark.django_db(transaction=True)
def test_a_partial_shortfall_flags_exactly_the_rows_that_make_it_up(
    tenant: Tenant, destination: StripeFake, clock: Clock, minute: Any
) -> None:
    accepted = send(tenant, clock, 5, 6)
    meter("deactivate")
    refused = send(tenant, clock, 10)
    reported(destination, named=0)

    assert check_after_settling(clock) == 1
    assert states(accepted) == [Pushed.CONFIRMED] * 2
    assert states(refused) == [Pushed.REFUSED]


@pytest.mark.django_db(transaction=True)
def test_a_shortfall_more_than_one_choice_explains_goes_to_a_person_and_flags_nothing(
    tenant: Tenant, destination: StripeFake, clock: Clock, minute: Any
) -> None:
    accepted = send(tenant, clock, 10)
    meter("deactivate")
    refused = send(tenant, clock, 5, 5)  # 10 s short: the 10 s row, or the two 5 s rows
    reported(destination, named=0)

    assert check_after_settling(clock) == 0
    assert states([*accepted, *refused]) == [Pushed.CONFIRMED] * 3
    report = MeterErrorReport.objects.get()
    assert report.checked_at is not None
    assert report.needs_person
    assert "counted 10 s, we sent 20 s" in report.check_note


@pytest.mark.django_db(transaction=True)
def test_a_shortfall_no_rows_make_up_goes_to_a_person_and_flags_nothing(
    tenant: Tenant, destination: StripeFake, clock: Clock, minute: Any
) -> None:
    """Here the ledger holds 7 s for a row it sent Stripe as 5 s (a ledger gone wrong)."""
    rows = send(tenant, clock, 5, 6)
    meter("deactivate")
    UsageRecord.objects.filter(pk=rows[0].pk).update(seconds=7)
    reported_rows = send(tenant, clock, 9)
    reported(destination, named=0)

    assert check_after_settling(clock) == 0  # 11 s counted of 22 s: no rows sum to 11
    assert states([*rows, *reported_rows]) == [Pushed.CONFIRMED] * 3
    assert MeterErrorReport.objects.get().needs_person
