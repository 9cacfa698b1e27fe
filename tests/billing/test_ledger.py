"""The ledger: one row per succeeded run, written in its terminal transition, never more;
pushable only once the run is delivered (billed means delivered)."""

import threading
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from billing.ledger import meter_identifier
from billing.meters import push_pending_usage
from billing.models import RunCharge, TenantBilling, UsageRecord
from billing.provisioning import stripe_provision
from billing.stripe_client import stripe_client
from billing.stripe_fake import StripeFake
from seedance.models import Run
from seedance.outcomes import Outcome
from seedance.outputs import outputs_copy
from seedance.run_input import RunInput
from seedance.sandbox import SandboxServer
from seedance.services.runs import run_create
from seedance.services.submission import run_submit
from seedance.signals import run_finished
from seedance.states import Delivery, RunStatus
from seedance.transitions import run_finish, run_mark_undeliverable
from tests.billing.factories import new_price
from tests.factories import deliver, finish_successfully
from tests.fixtures.services import wait_for_run

Pushed = UsageRecord.PushState


def create(tenant: Any, **fields: Any) -> Run:
    values = {"prompt": "a kite over dunes", "duration": "5", "resolution": "720p", **fields}
    run, _ = run_create(tenant=tenant, run_input=RunInput(**values))
    return run


def succeed(run: Run, *, duration: float | None = None, cost: str | None = "1.2095") -> Run | None:
    output = {"url": "u", "type": "video/mp4", "width": 1280, "height": 720, "duration": duration}
    return run_finish(
        run.pk,
        Outcome(
            status=RunStatus.SUCCEEDED,
            outputs=[output],
            cost=Decimal(cost) if cost else None,
        ),
    )


def test_succeeded_run_makes_exactly_one_ledger_row(tenant: Any) -> None:
    run = create(tenant, end_user_id="user-7")
    succeed(run)
    record = UsageRecord.objects.get(run=run)
    assert record.seconds == 5
    assert record.unit_price == Decimal("0.2419")
    assert record.amount == Decimal("1.209500")
    assert record.provider_cost == Decimal("1.2095")
    assert record.end_user_id == "user-7"
    assert record.identifier == meter_identifier(run.pk)
    assert record.push_state == UsageRecord.PushState.AWAITING_DELIVERY
    charge = RunCharge.objects.get(run=run)
    assert charge.state == RunCharge.State.SETTLED
    assert charge.amount == record.amount


@pytest.mark.parametrize("status", [RunStatus.FAILED, RunStatus.CANCELED])
def test_failed_and_canceled_runs_make_no_row_and_free_their_reservation(
    tenant: Any, status: str
) -> None:
    run = create(tenant)
    run_finish(run.pk, Outcome(status=status, failure_code="x"))
    assert not UsageRecord.objects.exists()
    charge = RunCharge.objects.get(run=run)
    assert charge.state == RunCharge.State.RELEASED
    assert charge.amount == 0


def test_duplicate_terminal_transitions_leave_one_row(tenant: Any) -> None:
    run = create(tenant)
    assert succeed(run) is not None
    assert succeed(run) is None
    run_finish(run.pk, Outcome(status=RunStatus.FAILED))
    assert UsageRecord.objects.filter(run=run).count() == 1


def test_ledger_row_rolls_back_with_its_transition(tenant: Any) -> None:
    run = create(tenant)

    def fail_after_billing(sender: Any, run: Run, **kwargs: Any) -> None:
        raise RuntimeError("crash after the ledger write")

    run_finished.connect(fail_after_billing, dispatch_uid="crash")
    try:
        with pytest.raises(RuntimeError):
            succeed(run)
    finally:
        run_finished.disconnect(dispatch_uid="crash")
    assert not UsageRecord.objects.exists()
    assert Run.objects.get(pk=run.pk).status == RunStatus.QUEUED
    assert RunCharge.objects.get(run=run).state == RunCharge.State.RESERVED


@pytest.mark.parametrize(
    ("measured", "billed"),
    [(5.02, 5), (5.5, 6), (5.49, 5), (3.2, 4), (16.4, 15), (15.0, 15), (None, 4)],
)
def test_auto_duration_bills_the_output_rounded_half_up_within_4_to_15(
    tenant: Any, measured: float | None, billed: int
) -> None:
    run = create(tenant, duration="auto")
    succeed(run, duration=measured)
    assert UsageRecord.objects.get(run=run).seconds == billed


def test_auto_duration_reserves_fifteen_seconds(tenant: Any) -> None:
    run = create(tenant, duration="auto", resolution="480p")
    assert RunCharge.objects.get(run=run).amount == Decimal("1.620000")


def test_unit_price_is_frozen_at_create(tenant: Any) -> None:
    new_price(tenant, "720p", "0.30")
    run = create(tenant)
    new_price(tenant, "720p", "0.99")
    succeed(run)
    record = UsageRecord.objects.get(run=run)
    assert record.unit_price == Decimal("0.30")
    assert record.amount == Decimal("1.500000")


def test_tenant_price_override_applies_only_to_its_tenant(tenant: Any, other_tenant: Any) -> None:
    new_price(tenant, "480p", "0.05")
    mine, theirs = create(tenant, resolution="480p"), create(other_tenant, resolution="480p")
    assert RunCharge.objects.get(run=mine).unit_price == Decimal("0.05")
    assert RunCharge.objects.get(run=theirs).unit_price == Decimal("0.108")


@pytest.mark.django_db(transaction=True)
def test_racing_terminal_transitions_leave_exactly_one_row(tenant: Any) -> None:
    if connection.vendor == "sqlite":
        pytest.skip("needs concurrent writers (PostgreSQL)")
    run = create(tenant)
    barrier = threading.Barrier(10)

    def finish() -> None:
        barrier.wait()
        try:
            succeed(run)
        finally:
            connection.close()

    threads = [threading.Thread(target=finish) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert UsageRecord.objects.filter(run=run).count() == 1


def test_runflows_cost_read_back_later_lands_beside_our_amount(tenant: Any) -> None:
    from seedance.signals import run_cost_recorded

    run = create(tenant)
    succeed(run, cost=None)
    assert UsageRecord.objects.get(run=run).provider_cost is None
    run_cost_recorded.send(sender=Run, run_id=run.pk, cost=Decimal("1.2095"))
    record = UsageRecord.objects.get(run=run)
    assert record.provider_cost == Decimal("1.2095")
    assert record.amount == Decimal("1.209500")


# --- billed means delivered -------------------------------------------------------------


@pytest.fixture
def provisioned(tenant: Any, stripe_fake: StripeFake, settings: Any) -> TenantBilling:
    settings.BILLING = {**settings.BILLING, "PUSH_MAX_BACKOFF_SECONDS": 0}
    stripe_provision(client=stripe_client())
    return TenantBilling.objects.get(tenant=tenant)


def test_usage_waits_for_the_runs_delivery_and_is_pushed_only_after(
    tenant: Any, provisioned: TenantBilling, stripe_fake: StripeFake
) -> None:
    run = finish_successfully(create(tenant), delivered=False)
    assert UsageRecord.objects.get(run=run).push_state == Pushed.AWAITING_DELIVERY

    push_pending_usage()
    assert stripe_fake.meter_events() == []

    deliver(run)
    record = UsageRecord.objects.get(run=run)
    assert record.push_state == Pushed.PENDING
    push_pending_usage()
    assert UsageRecord.objects.get(run=run).push_state == Pushed.CONFIRMED
    assert [event["identifier"] for event in stripe_fake.meter_events()] == [record.identifier]


def test_an_undeliverable_runs_usage_is_voided_and_its_charge_released(tenant: Any) -> None:
    run = finish_successfully(create(tenant), delivered=False)

    assert run_mark_undeliverable(run.pk, reason="gave up after 8 copy attempts")

    assert UsageRecord.objects.get(run=run).push_state == Pushed.VOIDED
    charge = RunCharge.objects.get(run=run)
    assert charge.state == RunCharge.State.RELEASED
    assert charge.amount == 0


@pytest.mark.django_db(transaction=True)
def test_a_copy_that_fails_for_good_is_never_pushed_to_stripe(
    tenant: Any, sandbox: SandboxServer, provisioned: TenantBilling, stripe_fake: StripeFake
) -> None:
    run = create(tenant, prompt="a tide pool at noon", duration="4", resolution="480p")
    sandbox.faults.set_for(str(run.pk), media_errors=[404])
    run_submit(run.pk)
    assert wait_for_run(run).status == RunStatus.SUCCEEDED

    outputs_copy(run.pk)
    push_pending_usage()
    push_pending_usage(now=timezone.now() + timedelta(days=1))

    run.refresh_from_db()
    assert run.delivery == Delivery.UNAVAILABLE
    assert UsageRecord.objects.get(run=run).push_state == Pushed.VOIDED
    assert RunCharge.objects.get(run=run).amount == 0
    assert stripe_fake.meter_events() == []


@pytest.mark.django_db(transaction=True)
def test_an_output_url_the_guard_refuses_is_never_billed(tenant: Any) -> None:
    run = finish_successfully(
        create(tenant),
        output={"url": "https://169.254.169.254/latest/meta-data", "type": "video/mp4"},
        delivered=False,
    )

    outputs_copy(run.pk)

    run.refresh_from_db()
    assert run.delivery == Delivery.UNAVAILABLE
    assert UsageRecord.objects.get(run=run).push_state == Pushed.VOIDED
    assert RunCharge.objects.get(run=run).amount == 0
