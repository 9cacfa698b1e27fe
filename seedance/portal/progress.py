"""How far along an in-progress run looks: elapsed time against the ETA of runs like it.

Runflow reports no percentage, so the bar is an estimate: a queued run sits low (it has
not started), a running one advances with elapsed / typical and never reaches 100 before
the video is there. The page's script moves the same bar between polls from the data
attributes this gives, so the bar moves every second without a request.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from seedance.models import Run
from seedance.states import RunStatus

#: Where a queued run's bar starts, and the most it shows before the run starts.
QUEUED_FLOOR = 3
QUEUED_CAP = 10
#: A running run's bar starts above any queued one and stops short of done.
RUNNING_FLOOR = 10
RUNNING_CAP = 95


@dataclass(frozen=True)
class Progress:
    """``percent`` is None when nothing says how long the run takes (an indeterminate
    bar); ``floor`` and ``cap`` bound it for the script that interpolates."""

    percent: int | None
    floor: int
    cap: int
    elapsed: timedelta
    typical: timedelta | None

    @property
    def elapsed_ms(self) -> int:
        return max(0, int(self.elapsed.total_seconds() * 1000))

    @property
    def typical_ms(self) -> int | None:
        return int(self.typical.total_seconds() * 1000) if self.typical else None


def run_progress(run: Run, *, now: datetime, typical: timedelta | None) -> Progress:
    """The bar of ``run`` at ``now``: queued by our status, or past it (running, or done
    and being copied)."""
    running = run.status != RunStatus.QUEUED
    floor, cap = (RUNNING_FLOOR, RUNNING_CAP) if running else (QUEUED_FLOOR, QUEUED_CAP)
    elapsed = now - run.created_at
    if not typical or typical.total_seconds() <= 0:
        return Progress(None if running else floor, floor, cap, elapsed, None)
    percent = int(min(cap, max(floor, 100 * elapsed / typical)))
    return Progress(percent, floor, cap, elapsed, typical)
