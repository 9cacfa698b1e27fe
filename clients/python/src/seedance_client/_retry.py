"""When a failed attempt is tried again, and after how long.

Three kinds of request, by what a repeat could do (``Safety``):

- ``IDEMPOTENT``: GET, PATCH, DELETE, a run's cancel (a canceled run answers as it is) and
  a run's create (always sent with an ``Idempotency-Key``, the same on every attempt).
  Retried on 429, 5xx and any connection error or timeout.
- ``UNSAFE``: the other POSTs (webhook endpoint create, rotate secret, test event,
  redeliver), which would act twice. Retried only where the server cannot have acted:
  429 and 503 (refused before acting) and a failure to connect (nothing was sent). A
  timeout or a broken connection after sending is raised at once.

The wait is exponential with full jitter, or the server's ``Retry-After`` (seconds or an
HTTP date) when it sent one; a ``Retry-After`` longer than ``max_retry_after`` is not
waited for, the error is raised instead.
"""

import enum
import random
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
#: Answers that say the server did nothing: safe to repeat any request.
REFUSED_BEFORE_ACTING = frozenset({429, 503})
#: A create whose first request is still being handled (409 with this code) settles soon.
IN_FLIGHT_CODE = "idempotency_key_in_flight"


class Safety(enum.Enum):
    IDEMPOTENT = "idempotent"
    UNSAFE = "unsafe"


@dataclass(frozen=True)
class RetryPolicy:
    """``max_retries`` is how many attempts follow the first; 0 turns retries off."""

    max_retries: int = 2
    backoff_base: float = 0.5
    backoff_max: float = 8.0
    max_retry_after: float = 60.0

    def backoff(self, retry: int) -> float:
        """Full jitter: a uniform wait up to base * 2**retry, capped (``retry`` from 0)."""
        ceiling = min(self.backoff_max, self.backoff_base * 2**retry)
        return random.uniform(0, ceiling)  # noqa: S311 - jitter, not a secret

    def delay_after_response(self, response: httpx.Response, retry: int) -> float | None:
        """Seconds to wait before the next attempt, or None when it must not be retried."""
        if retry >= self.max_retries:
            return None
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        if retry_after is not None:
            return retry_after if retry_after <= self.max_retry_after else None
        return self.backoff(retry)

    def delay_after_exception(self, exc: httpx.TransportError, retry: int) -> float | None:
        return None if retry >= self.max_retries else self.backoff(retry)


def response_is_retryable(response: httpx.Response, safety: Safety, error_code: str | None) -> bool:
    if safety is Safety.UNSAFE:
        return response.status_code in REFUSED_BEFORE_ACTING
    if response.status_code == 409:
        return error_code == IN_FLIGHT_CODE
    return response.status_code in RETRYABLE_STATUSES


def exception_is_retryable(exc: httpx.TransportError, safety: Safety) -> bool:
    """A connect error means nothing left this machine; anything later may have acted."""
    if safety is Safety.UNSAFE:
        return isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)
    return True


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """``Retry-After`` as seconds from now (never negative); None when absent or unreadable."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - (now or datetime.now(UTC))).total_seconds())
