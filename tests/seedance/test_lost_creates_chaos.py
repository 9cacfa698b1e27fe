"""Lost create answers, chaos-style, on a real stack: a qcluster worker and the dispatcher
against the sandbox, which loses a share of create answers every way Runflow documents
(dropped, 500, timed out) with the run made at once, late or never, beside refused creates
and failing run lists, and one worker is SIGKILLed mid-request to the sandbox. Every run
ends, Runflow holds exactly one run for each, and the time from a lost answer's first
create attempt to the run's end stays within what the settings promise (the outcome
window, one sweep, slack for a loaded machine).

The timings scale: ``bench/lost_creates.py`` runs this at production settings
(``RUNFLOW_TIMEOUT`` 10 s, the 30 s margin, a 5 s sweep) through ``LOST_CREATES_*`` and
reads the figures it prints.
"""

import math
import os
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.utils import timezone

from seedance import queue
from seedance.models import Run
from seedance.sandbox import SandboxServer
from seedance.states import RunStatus
from tests.factories import make_run
from tests.processes import kill_one_talking_to

pytestmark = pytest.mark.django_db(transaction=True)


@dataclass(frozen=True)
class Timing:
    runflow_timeout: float
    margin: float
    sweep: float
    runs: int
    workers: int
    spacing: float

    @classmethod
    def from_env(cls) -> "Timing":
        """Test scale by default: a 1 s timeout and a 5 s margin make an 8 s window."""
        return cls(
            runflow_timeout=float(os.environ.get("LOST_CREATES_RUNFLOW_TIMEOUT", "1")),
            margin=float(os.environ.get("LOST_CREATES_MARGIN_SECONDS", "5")),
            sweep=float(os.environ.get("LOST_CREATES_SWEEP_SECONDS", "1")),
            runs=int(os.environ.get("LOST_CREATES_RUNS", "30")),
            workers=int(os.environ.get("LOST_CREATES_WORKERS", "2")),
            spacing=float(os.environ.get("LOST_CREATES_SPACING_SECONDS", "0")),
        )

    @property
    def window(self) -> float:
        """``seedance.conf.create_outcome_window_seconds`` for these settings."""
        return 3 * self.runflow_timeout + self.margin

    @property
    def materialize(self) -> float:
        """A late run appears this long after its request: inside the margin the window
        assumes, as Runflow's "may still have made it" must be for any bound to hold."""
        return 0.8 * self.margin

    @property
    def bound(self) -> float:
        """Worst path (the run never made): the window, a sweep to notice, the resend and
        the run itself, plus 30 s for a loaded 2-core machine's queue."""
        return self.window + 2 * self.sweep + 30


TIMING = Timing.from_env()

#: Cycled over the runs: (name, sandbox faults for its client_ref, the claims it takes
#: unless its worker is the one killed: then one more, after the outcome window).
PLANS: list[tuple[str, dict[str, Any], int]] = [
    ("answered", {}, 1),
    ("refused 503", {"create_errors": [503]}, 1),
    ("drop, made", {"lose_create_answer": "drop"}, 1),
    ("500, made", {"lose_create_answer": "500"}, 1),
    ("timeout, made", {"lose_create_answer": "timeout"}, 1),
    ("drop, made late", {"lose_create_answer": "drop", "late": True}, 1),
    (
        "timeout, made late, no callback",
        {"lose_create_answer": "timeout", "late": True, "drop_callbacks": True},
        1,
    ),
    ("drop, never made", {"lose_create_answer": "drop", "lose_create_makes_run": False}, 2),
    ("500, never made", {"lose_create_answer": "500", "lose_create_makes_run": False}, 2),
    ("timeout, never made", {"lose_create_answer": "timeout", "lose_create_makes_run": False}, 2),
]


def _faults(plan: dict[str, Any]) -> dict[str, Any]:
    faults = dict(plan)
    if faults.pop("late", False):
        faults["lose_create_materialize_seconds"] = TIMING.materialize
    if "lose_create_answer" in faults:
        # Once: a resend is answered. A "timeout" answers only after the client gave up.
        faults.update(lose_create_times=1, lose_create_timeout=TIMING.runflow_timeout + 1)
    return faults


@pytest.fixture
def service_overrides() -> dict[str, str]:
    return {
        "RUNFLOW_TIMEOUT": str(TIMING.runflow_timeout),
        "SEEDANCE_CREATE_OUTCOME_MARGIN_SECONDS": str(TIMING.margin),
        "SEEDANCE_STATUS_SWEEP_SECONDS": str(TIMING.sweep),
        "Q_WORKERS": str(TIMING.workers),
    }


def percentile(values: list[float], share: float) -> float:
    """Nearest rank: the smallest value with at least ``share`` of the values at or below."""
    ordered = sorted(values)
    return ordered[max(math.ceil(share * len(ordered)) - 1, 0)]


def worker_killer(qcluster: subprocess.Popen[bytes], sandbox_port: int) -> Callable[[], int | None]:
    """SIGKILL, once, a qcluster process caught mid-request to the sandbox (most likely a
    create whose answer the sandbox holds back); returns its pid once it has killed one."""
    killed: list[int] = []

    def kill_one() -> int | None:
        if not killed and (pid := kill_one_talking_to(qcluster.pid, sandbox_port)):
            killed.append(pid)
        return killed[0] if killed else None

    return kill_one


def _submit_and_watch(
    run_ids: list[str], seconds: float, kill_one: Callable[[], int | None]
) -> dict[str, tuple[datetime, datetime]]:
    """Enqueue each run's submit, ``TIMING.spacing`` apart, while noting each run's first
    create attempt (``create_sent_at`` is moved on by a resend, long after this sees it) and
    when it was first seen terminal; once creates are under way, one worker is killed."""
    started = time.monotonic()
    due = [(started + index * TIMING.spacing, run_id) for index, run_id in enumerate(run_ids)]
    first_sent: dict[str, datetime] = {}
    ended: dict[str, datetime] = {}
    deadline = started + len(run_ids) * TIMING.spacing + seconds
    while len(ended) < len(run_ids):
        while due and due[0][0] <= time.monotonic():
            queue.enqueue_submit(due.pop(0)[1])
        now = timezone.now()
        rows = Run.objects.filter(pk__in=run_ids).values_list("pk", "status", "create_sent_at")
        for pk, status, sent in rows:
            if sent is not None:
                first_sent.setdefault(str(pk), sent)
                kill_one()
            if status in RunStatus.terminal():
                ended.setdefault(str(pk), now)
        if time.monotonic() > deadline:
            left = Run.objects.exclude(pk__in=list(ended)).filter(pk__in=run_ids)
            raise AssertionError(f"runs never ended: {list(left.values('pk', 'status'))}")
        time.sleep(min(0.25, TIMING.spacing or 0.25))
    return {pk: (first_sent[pk], ended[pk]) for pk in run_ids}


def test_lost_create_answers_end_every_run_with_one_upstream_run_in_bounded_time(
    tenant: Any,
    sandbox: SandboxServer,
    worker: subprocess.Popen[bytes],
    dispatcher: subprocess.Popen[bytes],
) -> None:
    sandbox.faults.set_global(list_errors=[503] * 4, retry_after=1)
    planned: dict[str, tuple[str, int, bool]] = {}
    for index in range(TIMING.runs):
        name, plan, claims = PLANS[index % len(PLANS)]
        run = make_run(tenant, prompt=f"a kite over dunes {index}", duration="4", resolution="480p")
        sandbox.faults.set_for(str(run.pk), **_faults(plan))
        planned[str(run.pk)] = (name, claims, "lose_create_answer" in plan)
    # The qcluster may take tens of seconds to start on a loaded machine.
    kill_one = worker_killer(worker, urlsplit(sandbox.url).port or 80)
    timings = _submit_and_watch(list(planned), seconds=60 + 3 * TIMING.bound, kill_one=kill_one)
    assert kill_one() is not None, "no worker was ever caught talking to the sandbox"

    runs = {str(run.pk): run for run in Run.objects.filter(pk__in=list(planned))}
    for run_id, (name, claims, _) in planned.items():
        run = runs[run_id]
        assert (name, run.status) == (name, RunStatus.SUCCEEDED), run.failure_code
        assert (name, sandbox.count_runs(client_ref=run_id)) == (name, 1)
        assert (name, run.submit_attempts >= claims) == (name, True)
    # Sent again only where Runflow never made it, and for the one run whose worker died.
    resent = [
        planned[run_id][0]
        for run_id, run in runs.items()
        if run.submit_attempts > planned[run_id][1]
    ]
    assert len(resent) <= 1, resent
    by_plan: dict[str, list[float]] = {}
    for run_id, (sent, ended) in timings.items():
        name, _, answer_lost = planned[run_id]
        if answer_lost:
            by_plan.setdefault(name, []).append((ended - sent).total_seconds())
    lost = [seconds for plan_seconds in by_plan.values() for seconds in plan_seconds]
    p50, p95 = percentile(lost, 0.5), percentile(lost, 0.95)
    lines = [
        f"lost-create chaos: {len(planned)} runs, {len(lost)} lost answers, "
        f"RUNFLOW_TIMEOUT {TIMING.runflow_timeout:g} s, window {TIMING.window:g} s, "
        f"sweep {TIMING.sweep:g} s, {TIMING.workers} workers, a create every "
        f"{TIMING.spacing:g} s: p50 {p50:.1f} s, p95 {p95:.1f} s, max {max(lost):.1f} s "
        f"(bound {TIMING.bound:g} s)",
        *(f"  {name}: max {max(seconds):.1f} s" for name, seconds in by_plan.items()),
    ]
    print("\n" + "\n".join(lines), flush=True)
    assert p95 <= TIMING.bound
