"""The status sweep: how a run's start shows within seconds.

Runflow calls back only when a run ends, and the reconciler asks about one run at a time
once a minute, so without this a run would sit at "queued" until its video appears. Every
``STATUS_SWEEP_SECONDS`` the dispatcher has the sweep list Runflow's in-progress runs, one
request per status (Runflow's ``q`` joins clauses with ``AND`` only), bounded to runs we
created in the last ``STATUS_SWEEP_WINDOW_SECONDS``; older ones are the reconciler's. A run
that started is marked running with Runflow's ``started_at``. One that no listing shows has
left the in-progress states, or moved between two listings: it gets a GET of its own now,
so its end shows without waiting for a callback; once per ``REFRESH_HOLD_SWEEPS`` sweeps at
most, so a backed-up queue is not fed the same GET every sweep. A 429 backs the sweep off
(honouring ``Retry-After``); any other refusal skips one sweep.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.cache import cache
from django.utils import timezone

from seedance import queue
from seedance.conf import setting
from seedance.exceptions import RunflowError, RunflowRateLimited
from seedance.models import Run
from seedance.runflow.client import RunflowClient, runflow_client
from seedance.runflow.payloads import ProviderRun
from seedance.states import RunStatus
from seedance.transitions import run_mark_running

logger = logging.getLogger(__name__)

#: Runflow's in-progress words, listed in the order a run moves through them: one moving on
#: while the sweep lists is seen twice (the later listing wins) rather than missed.
IN_PROGRESS_STATUSES = ("queued", "dispatching", "running")
#: Held by the dispatcher while a sweep is booked; a 429 stretches it.
BOOKING_KEY = "seedance:status-sweep:booked"
BACKOFF_KEY = "seedance:status-sweep:backoff"
#: A run's refresh, once enqueued by a sweep, is not enqueued again for this many sweeps.
REFRESH_HOLD_SWEEPS = 10
MAX_BACKOFF_SECONDS = 300.0


@dataclass
class SweepReport:
    watched: int = 0
    listed: int = 0
    started: int = 0
    refreshed: int = 0
    skipped: str = ""


def status_sweep_book(now: datetime) -> bool:
    """True when no sweep is booked for this interval (or a back-off): the caller
    enqueues one. Two dispatchers book it once between them."""
    interval = float(setting("STATUS_SWEEP_SECONDS"))
    if interval <= 0:
        return False
    return cache.add(BOOKING_KEY, now.isoformat(), timeout=interval)


def status_sweep(
    *, now: datetime | None = None, client: RunflowClient | None = None
) -> SweepReport:
    now = now or timezone.now()
    report = SweepReport()
    watched = _recent_in_flight(now)
    report.watched = len(watched)
    if not watched:
        return report
    since = min(run.created_at for run in watched.values())
    runflow = client or runflow_client()
    try:
        listed = _listed(runflow, since)
    except RunflowRateLimited as exc:
        report.skipped = f"rate limited ({exc})"
        _back_off(exc.retry_after)
        return report
    except RunflowError as exc:
        report.skipped = str(exc)
        logger.warning("Status sweep skipped: Runflow answered %s", exc)
        return report
    finally:
        if client is None:
            runflow.close()
    cache.delete(BACKOFF_KEY)
    report.listed = len(listed)
    for provider_run_id, run in watched.items():
        provider_run = listed.get(provider_run_id)
        if provider_run is None:
            if _hold_refresh(run.pk):
                queue.enqueue_refresh(run.pk)
                report.refreshed += 1
        elif provider_run.status == RunStatus.RUNNING and run.status == RunStatus.QUEUED:
            report.started += run_mark_running(run.pk, started_at=provider_run.started_at)
    return report


def _hold_refresh(run_id: object) -> bool:
    """True for the first sweep to ask for this run's GET within the hold."""
    hold = float(setting("STATUS_SWEEP_SECONDS")) * REFRESH_HOLD_SWEEPS
    return bool(cache.add(f"seedance:status-sweep:refresh:{run_id}", 1, timeout=hold))


def _recent_in_flight(now: datetime) -> dict[str, Run]:
    window = timedelta(seconds=float(setting("STATUS_SWEEP_WINDOW_SECONDS")))
    runs = Run.objects.filter(
        status__in=RunStatus.in_progress(),
        provider_run_id__isnull=False,
        created_at__gte=now - window,
    ).only("pk", "status", "provider_run_id", "created_at")
    return {str(run.provider_run_id): run for run in runs}


def _listed(runflow: RunflowClient, since: datetime) -> dict[str, ProviderRun]:
    listed: dict[str, ProviderRun] = {}
    for status_code in IN_PROGRESS_STATUSES:
        for provider_run in runflow.list_by_status(status_code, created_after=since):
            listed[provider_run.id] = provider_run
    return listed


def _back_off(retry_after: float | None) -> None:
    """Double the pause on each 429 in a row, from the sweep's interval, and never less
    than Runflow's ``Retry-After``."""
    interval = float(setting("STATUS_SWEEP_SECONDS"))
    pause = min(float(cache.get(BACKOFF_KEY) or interval) * 2, MAX_BACKOFF_SECONDS)
    pause = max(pause, float(retry_after or 0))
    cache.set(BACKOFF_KEY, pause, timeout=MAX_BACKOFF_SECONDS * 2)
    cache.set(BOOKING_KEY, "backing off", timeout=pause)
    logger.warning("Status sweep rate limited by Runflow: next sweep in %.0f s", pause)
