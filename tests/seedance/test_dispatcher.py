"""The dispatcher: every tick, what is due is enqueued once; it stops on SIGTERM at once."""

import signal
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone
from django_q.models import Schedule

from seedance import dispatcher, queue
from seedance.models import Run
from seedance.queue import RECONCILE_RUNS, REFRESH_RUN, SWEEP_STATUSES
from seedance.sandbox import SandboxServer
from seedance.services.submission import run_submit
from seedance.states import RunStatus
from tests.factories import callback_payload, make_run
from tests.fixtures.services import ROOT, wait_for_run
from tests.queue import queued_tasks


def refreshes(run: Run) -> int:
    return sum(
        1
        for task in queued_tasks()
        if task["func"] == REFRESH_RUN and tuple(task["args"]) == (str(run.pk),)
    )


def awaiting_recheck(tenant: Any, *, due: datetime, **fields: Any) -> Run:
    run = make_run(tenant, provider_run_id=str(uuid.uuid4()), status=RunStatus.RUNNING, **fields)
    Run.objects.filter(pk=run.pk).update(recheck_at=due)
    return run


def test_due_recheck_is_enqueued_once_and_booked_again(tenant: Any) -> None:
    now = timezone.now()
    run = awaiting_recheck(tenant, due=now - timedelta(seconds=1))
    not_yet = awaiting_recheck(tenant, due=now + timedelta(seconds=3))

    assert dispatcher.dispatch_once(now) == 1
    assert dispatcher.dispatch_once(now) == 0
    assert (refreshes(run), refreshes(not_yet)) == (1, 0)
    run.refresh_from_db()
    assert run.recheck_at == now + timedelta(seconds=5)


def test_a_status_sweep_is_enqueued_once_per_interval(
    db: None, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counted where it is enqueued: dispatchers the other tests start share the broker."""
    settings.SEEDANCE = {**settings.SEEDANCE, "STATUS_SWEEP_SECONDS": 5.0}
    enqueued: list[str] = []
    monkeypatch.setattr(queue, "enqueue_status_sweep", lambda: enqueued.append(SWEEP_STATUSES))
    now = timezone.now()

    assert dispatcher.dispatch_once(now) == 1
    assert dispatcher.dispatch_once(now + timedelta(seconds=1)) == 0
    assert enqueued == [SWEEP_STATUSES]


def test_recheck_setting_sets_the_interval(tenant: Any, settings: Any) -> None:
    settings.SEEDANCE = {**settings.SEEDANCE, "CALLBACK_RECHECK_SECONDS": 0.5}
    now = timezone.now()
    run = awaiting_recheck(tenant, due=now)
    dispatcher.dispatch_once(now)
    run.refresh_from_db()
    assert run.recheck_at == now + timedelta(seconds=0.5)


def test_recheck_past_the_deadline_is_dropped_for_the_reconciler(tenant: Any) -> None:
    now = timezone.now()
    run = awaiting_recheck(tenant, due=now, deadline_at=now - timedelta(seconds=1))
    assert dispatcher.dispatch_once(now) == 0
    run.refresh_from_db()
    assert (run.recheck_at, refreshes(run)) == (None, 0)


def test_finished_run_is_never_rechecked(tenant: Any) -> None:
    now = timezone.now()
    run = awaiting_recheck(tenant, due=now)
    Run.objects.filter(pk=run.pk).update(status=RunStatus.SUCCEEDED)
    assert dispatcher.dispatch_once(now) == 0


def test_a_failing_source_never_stops_the_others(
    tenant: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(now: datetime) -> int:
        raise RuntimeError("source down")

    monkeypatch.setattr(dispatcher, "DUE_WORK", [broken, dispatcher.due_rechecks])
    run = awaiting_recheck(tenant, due=timezone.now())
    assert dispatcher.dispatch_once() == 1
    assert refreshes(run) == 1


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_dispatcher_command_exits_cleanly_within_a_second_of_a_signal(signum: int) -> None:
    process = subprocess.Popen(
        [sys.executable, "manage.py", "dispatcher"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        assert b"Dispatcher running" in process.stdout.readline()
        time.sleep(0.3)  # into its first wait
        started = time.monotonic()
        process.send_signal(signum)
        assert b"Dispatcher stopped" in process.stdout.readline()
        assert time.monotonic() - started < 1.0
        # The interpreter's own teardown follows; on a loaded machine it takes a moment.
        assert process.wait(timeout=5) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.fixture
def fast_recheck(settings: Any) -> None:
    settings.SEEDANCE = {**settings.SEEDANCE, "CALLBACK_RECHECK_SECONDS": 0.5}


@pytest.mark.django_db(transaction=True)
def test_terminal_callback_before_runflow_agrees_is_settled_by_the_dispatchers_rechecks(
    tenant: Any,
    fast_recheck: None,
    sandbox: SandboxServer,
    dispatcher: subprocess.Popen[bytes],
    post_callback: Any,
) -> None:
    """Worker and dispatcher processes for real: the run's own callback is dropped, an
    early terminal one comes while Runflow still renders, and the rechecks finish it.
    The reconciler's schedule is removed first, so only the dispatcher can have finished it."""
    Schedule.objects.filter(func=RECONCILE_RUNS).delete()
    run = make_run(tenant, resolution="480p", duration="4")
    sandbox.faults.set_for(str(run.pk), drop_callbacks=True, running_seconds=2.0)
    run_submit(run.pk)
    run.refresh_from_db()
    assert run.provider_run_id is not None

    assert post_callback(run.pk, callback_payload("callback_succeeded", run)).status_code == 200
    run.refresh_from_db()
    assert run.recheck_at is not None
    assert sandbox.run(run.provider_run_id)["status_code"] != "succeeded"

    assert wait_for_run(run, timeout=30).status == RunStatus.SUCCEEDED
    assert run.recheck_at is None
    assert run.outputs[0]["url"] == sandbox.run(run.provider_run_id)["output"]["outputs"][0]["url"]
