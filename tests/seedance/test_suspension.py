"""Suspending a tenant: runs never sent are canceled through the one terminal transition
and none is sent afterwards, even racing a submit; runs already at Runflow finish; output
links stop and come back on resume."""

import threading
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.utils import timezone

from seedance.audit import Actor
from seedance.exceptions import TenantChangeRefused
from seedance.models import AuditEntry, OutputFile, Run, Tenant
from seedance.outcomes import TENANT_SUSPENDED
from seedance.outputs import signed_url
from seedance.sandbox import SandboxServer
from seedance.services.reconcile import reconcile_runs
from seedance.services.submission import run_submit
from seedance.services.suspension import tenant_resume, tenant_suspend
from seedance.states import RunStatus
from tests.factories import deliver, finish_successfully, make_run
from tests.seedance.conftest import wait_for_run


@pytest.fixture
def staff(db: None) -> User:
    return User.objects.create_user("stella", is_staff=True)


def suspend(tenant: Tenant, staff: User, **kwargs: Any) -> int:
    return tenant_suspend(
        tenant=tenant, actor=Actor.staff(staff), reason="fraud review", **kwargs
    ).canceled_runs


def status_of(run: Run) -> tuple[str, str]:
    run.refresh_from_db()
    return run.status, run.failure_code


@pytest.mark.django_db
def test_suspension_cancels_only_runs_never_sent(tenant: Tenant, staff: User) -> None:
    now = timezone.now()
    waiting = make_run(tenant)
    claimed = make_run(tenant, claimed_at=now, submit_attempts=1)
    released = make_run(tenant, submit_attempts=1)  # sent once, maybe made: looked up first
    at_runflow = make_run(
        tenant, status=RunStatus.RUNNING, provider_run_id="rf_1", claimed_at=now, submit_attempts=1
    )

    assert suspend(tenant, staff) == 1

    assert status_of(waiting) == (RunStatus.CANCELED, TENANT_SUSPENDED)
    assert waiting.completed_at is not None
    assert status_of(claimed) == (RunStatus.QUEUED, "")
    assert status_of(released) == (RunStatus.QUEUED, "")
    assert status_of(at_runflow) == (RunStatus.RUNNING, "")


@pytest.mark.django_db
def test_suspend_twice_or_resume_an_active_tenant_is_refused(tenant: Tenant, staff: User) -> None:
    with pytest.raises(TenantChangeRefused):
        tenant_resume(tenant=tenant, actor=Actor.staff(staff), reason="nothing to resume")
    suspend(tenant, staff)
    with pytest.raises(TenantChangeRefused):
        suspend(tenant, staff)
    assert AuditEntry.objects.filter(action=AuditEntry.Action.TENANT_SUSPENDED).count() == 1
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.TENANT_RESUMED).exists()


@pytest.mark.django_db(transaction=True)
def test_a_suspended_tenants_run_is_never_sent(
    tenant: Tenant, staff: User, sandbox: SandboxServer
) -> None:
    suspend(tenant, staff)
    late = make_run(tenant)  # committed in a suspension's race, its submit task still queued
    run_submit(late.pk)
    assert status_of(late) == (RunStatus.CANCELED, TENANT_SUSPENDED)
    assert sandbox.count_runs(client_ref=str(late.pk)) == 0


@pytest.mark.django_db(transaction=True)
def test_the_reconciler_cancels_what_runflow_never_made_and_attaches_what_it_did(
    tenant: Tenant, staff: User, sandbox: SandboxServer, settings: Any
) -> None:
    settings.SEEDANCE = {**settings.SEEDANCE, "RECONCILE_QUEUED_AFTER_SECONDS": 0}
    made = make_run(tenant, resolution="480p", duration="4")
    run_submit(made.pk)
    made.refresh_from_db()
    # Its answer was lost: the run looks never sent; Runflow has it by client_ref.
    Run.objects.filter(pk=made.pk).update(provider_run_id=None, claimed_at=None, status="queued")
    long_ago = timezone.now() - timedelta(hours=1)
    lost = make_run(tenant, claimed_at=long_ago, submit_attempts=1)  # Runflow has none
    released = make_run(tenant, submit_attempts=1)
    suspend(tenant, staff)

    reconcile_runs()

    assert status_of(lost) == (RunStatus.CANCELED, TENANT_SUSPENDED)
    assert status_of(released) == (RunStatus.CANCELED, TENANT_SUSPENDED)
    assert wait_for_run(made).status == RunStatus.SUCCEEDED
    assert sandbox.count_runs(client_ref=str(made.pk)) == 1
    assert sandbox.count_runs(client_ref=str(lost.pk)) == 0
    assert sandbox.count_runs(client_ref=str(released.pk)) == 0


@pytest.mark.django_db(transaction=True)
def test_a_run_at_runflow_finishes_after_suspension(
    tenant: Tenant, staff: User, sandbox: SandboxServer
) -> None:
    run = make_run(tenant, resolution="480p", duration="4")
    run_submit(run.pk)
    suspend(tenant, staff)
    assert wait_for_run(run).status == RunStatus.SUCCEEDED
    assert sandbox.count_runs(client_ref=str(run.pk)) == 1


@pytest.mark.django_db(transaction=True)
def test_no_run_is_claimed_after_a_suspension_commits_even_racing_submits(
    tenant: Tenant, staff: User, sandbox: SandboxServer
) -> None:
    """Threads submit while staff suspend: each run was claimed before the suspension's
    date (sent once, finishes) or never (canceled, nothing at Runflow)."""
    if connection.vendor == "sqlite":
        pytest.skip("needs concurrent writers (PostgreSQL)")
    runs = [make_run(tenant, resolution="480p", duration="4") for _ in range(12)]
    barrier = threading.Barrier(len(runs) + 1)

    def submit(run: Run) -> None:
        barrier.wait()
        try:
            run_submit(run.pk)
        finally:
            connection.close()

    def suspend_now() -> None:
        barrier.wait()
        try:
            suspend(Tenant.objects.get(pk=tenant.pk), staff)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit, args=(run,)) for run in runs]
    threads.append(threading.Thread(target=suspend_now))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    tenant.refresh_from_db()
    assert tenant.suspended_at is not None
    for run in runs:
        run.refresh_from_db()
        upstream = sandbox.count_runs(client_ref=str(run.pk))
        if run.status == RunStatus.CANCELED:
            assert run.failure_code == TENANT_SUSPENDED
            assert run.claimed_at is None
            assert upstream == 0
        else:
            assert run.claimed_at is not None
            assert run.claimed_at < tenant.suspended_at
            assert upstream == 1
            assert wait_for_run(run).status == RunStatus.SUCCEEDED


@pytest.mark.django_db
def test_output_links_stop_while_suspended_and_work_again_after_resume(
    tenant: Tenant, staff: User, client: Any
) -> None:
    run = deliver(finish_successfully(make_run(tenant), delivered=False))
    url = signed_url(OutputFile.objects.get(run=run))
    assert client.get(url).status_code == 200

    suspend(tenant, staff)
    refused = client.get(url)
    assert refused.status_code == 404
    assert b"suspend" not in refused.content.lower()

    tenant_resume(tenant=tenant, actor=Actor.staff(staff), reason="cleared")
    assert client.get(url).status_code == 200
