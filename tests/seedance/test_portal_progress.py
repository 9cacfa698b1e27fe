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


def test_the_list_estimates_each_kind_from_its_latest_runs_as_the_run_page_does(
    tenant: Any, other_tenant: Any
) -> None:
    """etas_for's one ranked query agrees with eta_for's query per kind, sample cut-off
    included (more finished runs of a kind than ETA_SAMPLE_SIZE)."""
    from seedance.models import Run
    from seedance.portal.selectors import ETA_SAMPLE_SIZE, eta_for, etas_for

    kinds = [("5", "720p"), ("10", "480p"), ("8", "720p")]
    for number in range(ETA_SAMPLE_SIZE + 5):
        done = make_run(tenant, duration="5", resolution="720p", status=RunStatus.SUCCEEDED)
        # The first five to finish were the fastest: a sample keeping them moves the median.
        Run.objects.filter(pk=done.pk).update(
            created_at=NOW - timedelta(hours=2),
            completed_at=NOW - timedelta(hours=2) + timedelta(seconds=60 + number * 10),
        )
    for seconds in (30, 50):
        done = make_run(tenant, duration="10", resolution="480p", status=RunStatus.SUCCEEDED)
        Run.objects.filter(pk=done.pk).update(
            created_at=NOW - timedelta(hours=1),
            completed_at=NOW - timedelta(hours=1, seconds=-seconds),
        )
    make_run(other_tenant, duration="8", resolution="720p", status=RunStatus.SUCCEEDED)
    moving = [make_run(tenant, duration=d, resolution=r) for d, r in kinds]

    typical = etas_for(tenant, moving)

    expected = {}
    for duration, resolution in kinds:
        one = eta_for(tenant, duration=duration, resolution=resolution)
        if one is not None:
            expected[(duration, resolution)] = one[0]
    assert typical == expected
    assert typical[("5", "720p")] == timedelta(seconds=60 + 10 * 14.5)  # numbers 5..24
    assert typical[("10", "480p")] == timedelta(seconds=40)
    assert ("8", "720p") not in typical
