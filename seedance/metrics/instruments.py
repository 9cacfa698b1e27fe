"""What a process records as it happens: Runflow's errors, the submit latency and the
callback lag. With ``PROMETHEUS_MULTIPROC_DIR`` set (scripts/serve.sh, scripts/demo.sh),
prometheus-client writes each process's values to files there and a scrape sums them,
so gunicorn's and qcluster's workers add up; without it (one process) they stay in memory.
"""

from datetime import datetime

from django.utils import timezone
from prometheus_client import Counter, Histogram

_SECONDS_BUCKETS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800)

RUNFLOW_ERRORS = Counter(
    "seedance_runflow_errors",
    "Runflow calls that failed: reason is the HTTP status, 'network' or 'bad_response'.",
    ["operation", "reason"],
)
SUBMIT_LATENCY = Histogram(
    "seedance_run_submit_latency_seconds",
    "From a run's creation to Runflow accepting its create (observed by the worker).",
    buckets=_SECONDS_BUCKETS,
)
CALLBACK_LAG = Histogram(
    "seedance_callback_lag_seconds",
    "From Runflow's completed_at to our receipt of its terminal callback.",
    buckets=_SECONDS_BUCKETS,
)


def seconds_since(then: datetime) -> float:
    """Elapsed seconds, never negative (another clock may run ahead of ours)."""
    return max(0.0, (timezone.now() - then).total_seconds())
