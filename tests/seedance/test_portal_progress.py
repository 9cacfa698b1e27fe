"""The run's bar: elapsed time against the ETA of runs like it, low while queued, never
done before the video is there."""

from datetime import timedelta
from typing import Any

from django.utils import timezone

from seedance.portal.progress import QUEUED_CAP, RUNNING_CAP, RUNNING_FLOOR, run_progress
from seedance.states import RunStatus
from tests.factories import make_run

MINUTE = timedelta(minutes=1)


NOW = timezone.now()


def run_started(tenant: Any, status: str, seconds_ago: float) -> Any:
    run = make_run(tenant, status=status)
    run.created_at = NOW - timedelta(seconds=seconds_ago)
    return run


def test_a_queued_run_shows_a_small_value_however_long_it_waits(tenant: Any) -> None:
    now = NOW
    assert run_progress(run_started(tenant, "queued", 3), now=now, typical=MINUTE).percent == 5
    late = run_progress(run_started(tenant, "queued", 50), now=now, typical=MINUTE)
    assert late.percent == QUEUED_CAP


def test_a_running_run_advances_with_elapsed_over_typical(tenant: Any) -> None:
    now = NOW
    early = run_progress(run_started(tenant, RunStatus.RUNNING, 3), now=now, typical=MINUTE)
    half = run_progress(run_started(tenant, RunStatus.RUNNING, 30), now=now, typical=MINUTE)
    assert early.percent == RUNNING_FLOOR
    assert half.percent == 50
    assert half.elapsed_ms >= 30_000
    assert half.typical_ms == 60_000


def test_a_running_run_past_its_typical_time_stops_short_of_done(tenant: Any) -> None:
    late = run_started(tenant, RunStatus.RUNNING, 600)
    assert run_progress(late, now=NOW, typical=MINUTE).percent == RUNNING_CAP


def test_without_runs_like_it_a_running_bar_is_indeterminate(tenant: Any) -> None:
    running = run_started(tenant, RunStatus.RUNNING, 30)
    bar = run_progress(running, now=NOW, typical=None)
    assert bar.percent is None
    assert bar.typical_ms is None
