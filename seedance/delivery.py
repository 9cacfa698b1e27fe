"""The retry rule of a succeeded run's copy: when to try again and when to give up.

- Attempt 1 is the copy task enqueued when the run succeeds; the reconciler starts every
  later one that is due (and the first, ``OUTPUT_COPY_RETRY_BASE_SECONDS`` after the run
  completed, when that task was lost).
- An attempt books the next as it starts, ``BASE * 2 ** (attempts - 1)`` seconds later,
  capped at ``OUTPUT_COPY_RETRY_MAX_SECONDS``: a copy still running is not started twice.
- A permanent failure makes the outputs unavailable at once: the source answers a 4xx other
  than 408, 425 or 429, the file is over ``OUTPUT_MAX_BYTES``, an output has no URL
  ``seedance.outbound`` lets us fetch, the source answers a redirect (never followed, and
  the same URL redirects again), or the video was rejected in review before we copied it.
- Anything else (5xx, 408, 425, 429, timeouts, refused connections, our storage failing)
  is tried again, until ``OUTPUT_COPY_MAX_ATTEMPTS`` attempts have been made or
  ``OUTPUT_COPY_WINDOW_SECONDS`` have passed since the run completed (Runflow's URLs do not
  last): then the outputs are unavailable.
"""

from datetime import datetime, timedelta

import httpx

from seedance.conf import setting
from seedance.models import Run

#: Source answers that may succeed if asked again later.
RETRYABLE_STATUSES = frozenset({408, 425, 429})


class CopyFailed(Exception):
    """A copy attempt that did not store every output; ``permanent`` ends delivery."""

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


class OutputTooLarge(CopyFailed):
    def __init__(self, message: str) -> None:
        super().__init__(message, permanent=True)


def copy_failure(exc: httpx.HTTPError, index: int) -> CopyFailed:
    """What an HTTP error fetching output ``index`` means for delivery."""
    if isinstance(exc, httpx.HTTPStatusError):
        code = exc.response.status_code
        permanent = 400 <= code < 500 and code not in RETRYABLE_STATUSES
        return CopyFailed(f"output {index}: the source answered HTTP {code}", permanent=permanent)
    return CopyFailed(f"output {index}: {type(exc).__name__}", permanent=False)


def next_attempt_at(attempts: int, now: datetime) -> datetime:
    """When the attempt after the ``attempts``-th may start."""
    base = float(setting("OUTPUT_COPY_RETRY_BASE_SECONDS"))
    ceiling = float(setting("OUTPUT_COPY_RETRY_MAX_SECONDS"))
    return now + timedelta(seconds=min(ceiling, base * 2 ** max(0, attempts - 1)))


def given_up(run: Run, now: datetime) -> str:
    """Why no further attempt is made, or "" while one may still be."""
    attempts = int(setting("OUTPUT_COPY_MAX_ATTEMPTS"))
    if run.delivery_attempts >= attempts:
        return f"gave up after {run.delivery_attempts} copy attempts"
    window = timedelta(seconds=float(setting("OUTPUT_COPY_WINDOW_SECONDS")))
    if run.completed_at is not None and run.completed_at + window < now:
        return f"not copied within {window} of the run's completion"
    return ""
