"""The status sweep, against the sandbox over real sockets: a run's start shows within one
sweep, with Runflow's ``started_at``, in one list request per in-progress status; a run
that no listing shows is asked about at once; a 429 backs the sweep off."""

import time
from datetime import timedelta
from typing import Any

import httpx
import pytest
from django.core.cache import cache
from django.utils import timezone

from seedance.models import Run
from seedance.runflow.client import RunflowClient
from seedance.sandbox import SandboxServer
from seedance.services.status_sweep import (
    BACKOFF_KEY,
    status_sweep,
    status_sweep_book,
)
from seedance.services.submission import run_submit
from seedance.states import RunStatus
from tests.factories import make_run
from tests.seedance.conftest import wait_for_run

pytestmark = pytest.mark.django_db(transaction=True)


class CountingTransport(httpx.HTTPTransport):
    """httpx's own socket transport, noting each request's query."""

    def __init__(self) -> None:
        super().__init__()
        self.queries: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.queries.append(request.url.params.get("q", ""))
        return super().handle_request(request)


def submitted(tenant: Any, sandbox: SandboxServer, **faults: Any) -> Run:
    """A run Runflow has accepted, with no callback ever to come."""
    run = make_run(tenant, resolution="480p", duration="4")
    sandbox.faults.set_for(str(run.pk), drop_callbacks=True, **faults)
    run_submit(run.pk)
    run.refresh_from_db()
    assert run.provider_run_id
    assert run.status == RunStatus.QUEUED
    return run


def started_upstream(sandbox: SandboxServer, run: Run) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while (upstream := upstream_of(sandbox, run))["status_code"] in ("queued", "dispatching"):
        assert time.monotonic() < deadline, "the sandbox never started the run"
        time.sleep(0.02)
    return upstream


def upstream_of(sandbox: SandboxServer, run: Run) -> dict[str, Any]:
    upstream = sandbox.sandbox.snapshot(str(run.provider_run_id))
    assert upstream is not None
    return upstream


def test_a_started_run_shows_running_with_runflows_started_at_in_one_request_per_status(
    tenant: Any, sandbox: SandboxServer
) -> None:
    run = submitted(tenant, sandbox, queued_seconds=0.05, running_seconds=30)
    upstream = started_upstream(sandbox, run)
    transport = CountingTransport()

    with RunflowClient(transport=transport) as client:
        report = status_sweep(client=client)

    run.refresh_from_db()
    assert run.status == RunStatus.RUNNING
    assert run.started_at is not None
    assert run.started_at.isoformat().replace("+00:00", "Z")[:19] == upstream["started_at"][:19]
    assert (report.watched, report.started, report.refreshed) == (1, 1, 0)
    assert [q.split(" AND ")[0] for q in transport.queries] == [
        "status_code:queued",
        "status_code:dispatching",
        "status_code:running",
    ]


def test_a_run_no_listing_shows_is_asked_about_at_once_and_ends(
    tenant: Any, sandbox: SandboxServer
) -> None:
    run = submitted(tenant, sandbox, queued_seconds=0.01, running_seconds=0.05)
    deadline = time.monotonic() + 10
    while upstream_of(sandbox, run)["status_code"] != "succeeded":
        assert time.monotonic() < deadline
        time.sleep(0.02)

    report = status_sweep()

    assert report.refreshed == 1
    assert wait_for_run(run).status == RunStatus.SUCCEEDED


def test_runs_created_before_the_window_are_left_to_the_reconciler(
    tenant: Any, sandbox: SandboxServer
) -> None:
    run = submitted(tenant, sandbox, queued_seconds=0.05, running_seconds=30)
    Run.objects.filter(pk=run.pk).update(created_at=timezone.now() - timedelta(hours=1))
    transport = CountingTransport()

    with RunflowClient(transport=transport) as client:
        report = status_sweep(client=client)

    assert report.watched == 0
    assert transport.queries == []


def test_a_rate_limited_sweep_backs_off_doubling_and_honouring_retry_after(
    tenant: Any, sandbox: SandboxServer, settings: Any
) -> None:
    settings.SEEDANCE = {**settings.SEEDANCE, "STATUS_SWEEP_SECONDS": 2.0}
    run = submitted(tenant, sandbox, queued_seconds=0.05, running_seconds=30)
    started_upstream(sandbox, run)
    sandbox.faults.set_global(list_errors=[429, 429], retry_after=5)

    first = status_sweep()
    assert first.skipped.startswith("rate limited")
    assert cache.get(BACKOFF_KEY) == 5.0  # twice the interval is 4 s: Retry-After wins
    assert status_sweep_book(timezone.now()) is False
    status_sweep()
    assert cache.get(BACKOFF_KEY) == 10.0

    recovered = status_sweep()
    assert recovered.started == 1
    assert cache.get(BACKOFF_KEY) is None
    run.refresh_from_db()
    assert run.status == RunStatus.RUNNING


def test_a_sweep_is_booked_once_per_interval_and_never_when_off(settings: Any) -> None:
    settings.SEEDANCE = {**settings.SEEDANCE, "STATUS_SWEEP_SECONDS": 5.0}
    now = timezone.now()
    assert status_sweep_book(now) is True
    assert status_sweep_book(now) is False
    settings.SEEDANCE = {**settings.SEEDANCE, "STATUS_SWEEP_SECONDS": 0}
    cache.clear()
    assert status_sweep_book(now) is False


def test_a_run_no_listing_shows_is_asked_about_once_per_hold_not_every_sweep(
    tenant: Any, sandbox: SandboxServer, settings: Any
) -> None:
    """A backed-up queue must not get the same GET on every sweep."""
    settings.SEEDANCE = {**settings.SEEDANCE, "STATUS_SWEEP_SECONDS": 5.0}
    run = submitted(tenant, sandbox, queued_seconds=0.01, running_seconds=0.05)
    deadline = time.monotonic() + 10
    while upstream_of(sandbox, run)["status_code"] != "succeeded":
        assert time.monotonic() < deadline
        time.sleep(0.02)
    # Its GETs fail, so each refresh leaves it in flight, as a refresh not yet run would.
    sandbox.faults.set_for(str(run.pk), drop_callbacks=True, get_errors=[500] * 50)

    assert [status_sweep().refreshed for _ in range(3)] == [1, 0, 0]
    cache.delete(f"seedance:status-sweep:refresh:{run.pk}")  # the hold has passed
    assert status_sweep().refreshed == 1
