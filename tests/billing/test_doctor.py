"""billing's section of ``runs_doctor``: held money, the usage push, open reconciliation
differences and Stripe's reachability, each appearing when its cause is in the database
(or Stripe is down) and not otherwise."""

import json
from datetime import date, timedelta
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from billing.doctor import billing_section
from billing.models import BillingDifference, MeteredPrice, RunCharge, UsageRecord
from billing.stripe_fake import StripeFake
from seedance.doctor.findings import Context, Severity
from seedance.models import Run, Tenant
from seedance.run_input import RunInput
from seedance.services.runs import run_create
from seedance.states import RunStatus
from tests.billing.factories import billable_run
from tests.processes import free_port
from tests.seedance.doctor.helpers import finding, trouble

pytestmark = pytest.mark.django_db


def section(*, offline: bool = True) -> Any:
    return billing_section(Context(now=timezone.now(), offline=offline))


def reserved_run(tenant: Tenant) -> Run:
    run, _ = run_create(tenant=tenant, run_input=RunInput(prompt="a quiet harbour", duration="5"))
    assert RunCharge.objects.get(run=run).state == RunCharge.State.RESERVED
    return run


def test_runs_in_flight_and_billed_usage_are_no_trouble(tenant: Tenant) -> None:
    reserved_run(tenant)
    billable_run(tenant)
    UsageRecord.objects.update(push_state=UsageRecord.PushState.CONFIRMED)
    found = section()
    assert trouble(found) == {}
    assert "reservations of 1 run(s) in flight" in finding(found, "billing.held_money").what


def test_a_reservation_of_an_ended_run_is_a_problem(tenant: Tenant) -> None:
    run = reserved_run(tenant)
    Run.objects.filter(pk=run.pk).update(status=RunStatus.FAILED, completed_at=timezone.now())
    found = finding(section(), "billing.unsettled_reservations")
    amount = RunCharge.objects.get(run=run).amount
    assert found.severity is Severity.PROBLEM
    assert found.items == (str(run.pk),)
    assert Decimal(found.details["amount_usd"]) == amount > 0


def test_money_reserved_for_a_run_past_its_deadline_is_a_warning(tenant: Tenant) -> None:
    run = reserved_run(tenant)
    Run.objects.filter(pk=run.pk).update(deadline_at=timezone.now() - timedelta(minutes=1))
    found = finding(section(), "billing.overdue_reservations")
    assert found.severity is Severity.WARNING
    assert found.items == (str(run.pk),)
    assert f"USD {found.details['amount_usd']} reserved for 1 run(s)" in found.what


def test_usage_of_a_held_video_waits_for_its_review(tenant: Tenant, settings: Any) -> None:
    settings.SEEDANCE = {**settings.SEEDANCE, "BILL_REJECTED": False}
    billable_run(tenant, nsfw_detected=True)
    found = finding(section(), "billing.waiting_for_review")
    assert found.severity is Severity.WARNING
    assert found.items == ("acme",)
    assert "/admin/seedance/run/review/" in found.todo


def test_usage_held_without_a_subscription_item_is_a_warning(tenant: Tenant) -> None:
    billable_run(tenant)
    UsageRecord.objects.update(push_state=UsageRecord.PushState.HELD)
    found = finding(section(), "billing.held_usage")
    assert found.severity is Severity.WARNING
    assert "stripe_provision" in found.todo


@pytest.mark.parametrize(
    ("state", "code"),
    [
        (UsageRecord.PushState.REFUSED, "billing.push_refused"),
        (UsageRecord.PushState.NEEDS_ATTENTION, "billing.push_needs_attention"),
    ],
)
def test_rows_stripe_refused_or_a_person_must_settle_are_problems(
    tenant: Tenant, state: str, code: str
) -> None:
    billable_run(tenant)
    UsageRecord.objects.update(push_state=state)
    found = finding(section(), code)
    assert (found.severity, found.count, found.items) == (Severity.PROBLEM, 1, ("acme",))
    assert f"push_state__exact={state}" in found.todo


def test_a_pending_row_long_overdue_is_a_problem_when_stripe_is_configured(
    tenant: Tenant, stripe_fake: StripeFake
) -> None:
    billable_run(tenant)
    UsageRecord.objects.update(
        push_state=UsageRecord.PushState.PENDING,
        next_push_at=timezone.now() - timedelta(minutes=30),
    )
    found = finding(section(), "billing.push_overdue")
    assert found.severity is Severity.PROBLEM
    assert "manage.py push_usage" in found.todo


def test_a_pending_row_without_stripe_configured_is_only_a_warning(tenant: Tenant) -> None:
    billable_run(tenant)
    UsageRecord.objects.update(
        push_state=UsageRecord.PushState.PENDING,
        next_push_at=timezone.now() - timedelta(minutes=30),
    )
    found = finding(section(), "billing.push_overdue")
    assert found.severity is Severity.WARNING
    assert "STRIPE_API_KEY" in found.todo


def test_an_open_reconciliation_difference_is_a_problem_until_resolved(tenant: Tenant) -> None:
    price = MeteredPrice.objects.create(
        resolution="720p",
        unit_price=Decimal("0.1"),
        event_name="seedance-test-720p",
        meter_id="mtr_test",
        price_id="price_test",
    )
    now = timezone.now()
    difference = BillingDifference.objects.create(
        tenant=tenant,
        period=date(2026, 11, 1),
        kind=BillingDifference.Kind.METER,
        metered_price=price,
        window_start=now - timedelta(days=2),
        window_end=now - timedelta(days=1),
        ledger_value=Decimal("15.000000"),
        stripe_value=Decimal("10.000000"),
        action="Stripe counted 5 s fewer than the ledger sent.",
        checked_at=now,
    )
    found = finding(section(), "billing.differences")
    assert found.severity is Severity.PROBLEM
    assert found.items == ("acme 2026-11 meter: ledger 15 vs Stripe 10",)
    assert "billing_reconcile" in found.todo
    BillingDifference.objects.filter(pk=difference.pk).update(
        state=BillingDifference.State.RESOLVED
    )
    assert trouble(section()) == {}


def test_the_stripe_fake_answers(stripe_fake: StripeFake) -> None:
    found = finding(section(offline=False), "billing.stripe")
    assert (found.severity, found.what) == (Severity.OK, "Stripe answered.")


def test_an_unreachable_stripe_is_a_problem_line(stripe_fake: StripeFake, settings: Any) -> None:
    settings.BILLING = {**settings.BILLING, "STRIPE_API_BASE": f"http://127.0.0.1:{free_port()}"}
    found = finding(section(offline=False), "billing.stripe")
    assert found.severity is Severity.PROBLEM
    assert "Stripe did not answer" in found.what


def test_stripe_is_not_asked_offline_or_unconfigured(
    stripe_fake: StripeFake, settings: Any
) -> None:
    assert finding(section(offline=True), "billing.stripe").details == {"skipped": True}
    settings.BILLING = {**settings.BILLING, "STRIPE_API_KEY": ""}
    assert finding(section(offline=False), "billing.stripe").details == {"skipped": True}


def test_runs_doctor_prints_billings_section_last_and_exits_1_on_its_problem(
    tenant: Tenant,
) -> None:
    run = reserved_run(tenant)
    Run.objects.filter(pk=run.pk).update(status=RunStatus.FAILED, completed_at=timezone.now())
    out = StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("runs_doctor", "--offline", "--json", stdout=out)
    sections = json.loads(out.getvalue())["sections"]
    assert exit_.value.code == 1
    assert sections[-1]["name"] == "billing"
    assert sections[-1]["severity"] == "problem"
