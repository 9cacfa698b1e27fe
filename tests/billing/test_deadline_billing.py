"""Billing across the deadline and the hard limit: a run Runflow still works on keeps its
reservation; the hard limit releases it; a success Runflow reports later bills nothing."""

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from billing.models import RunCharge, UsageRecord
from seedance.conf import setting
from seedance.models import Run, RunDiscrepancy, Tenant
from seedance.run_input import RunInput
from seedance.sandbox import SandboxServer
from seedance.services.reconcile import reconcile_runs
from seedance.services.runs import run_create
from seedance.services.submission import run_submit
from seedance.states import Attention, RunStatus

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def eager(settings: Any) -> None:
    settings.SEEDANCE = {
        **settings.SEEDANCE,
        "RECONCILE_QUEUED_AFTER_SECONDS": 0,
        "RECONCILE_POLL_AFTER_SECONDS": 0,
    }


def reporting_an_unknown_status(tenant: Tenant, sandbox: SandboxServer) -> Run:
    run, _ = run_create(
        tenant=tenant, run_input=RunInput(prompt="a heron at dawn", duration="4", resolution="480p")
    )
    sandbox.faults.set_for(
        str(run.pk), report_status="awaiting_capacity", running_seconds=600, drop_callbacks=True
    )
    run_submit(run.pk)
    run.refresh_from_db()
    return run


def test_run_flagged_past_its_deadline_keeps_its_reservation(
    tenant: Tenant, sandbox: SandboxServer, eager: None
) -> None:
    run = reporting_an_unknown_status(tenant, sandbox)
    reserved = RunCharge.objects.get(run=run)
    assert reserved.state == RunCharge.State.RESERVED

    reconcile_runs(now=run.deadline_at + timedelta(minutes=5))

    run.refresh_from_db()
    assert (run.status, run.attention) == (RunStatus.RUNNING, Attention.OVERDUE)
    kept = RunCharge.objects.get(run=run)
    assert (kept.state, kept.amount) == (RunCharge.State.RESERVED, reserved.amount)


def test_hard_limit_releases_the_reservation_and_a_later_success_bills_nothing(
    tenant: Tenant, sandbox: SandboxServer, eager: None
) -> None:
    run = reporting_an_unknown_status(tenant, sandbox)
    hard_limit = run.created_at + timedelta(seconds=int(setting("RUN_HARD_LIMIT_SECONDS")) + 1)

    reconcile_runs(now=hard_limit)
    released = RunCharge.objects.get(run=run)
    assert (released.state, released.amount) == (RunCharge.State.RELEASED, Decimal(0))

    sandbox.faults.set_for(str(run.pk), drop_callbacks=True)
    sandbox.wait_for(str(run.provider_run_id), "succeeded")
    reconcile_runs(now=hard_limit + timedelta(hours=1))

    assert RunDiscrepancy.objects.filter(run=run).count() == 1
    assert not UsageRecord.objects.filter(run=run).exists()
    assert RunCharge.objects.get(run=run).state == RunCharge.State.RELEASED
    assert Run.objects.get(pk=run.pk).status == RunStatus.FAILED
