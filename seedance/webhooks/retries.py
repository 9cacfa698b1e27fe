"""When a failed attempt is tried again: Svix's schedule with jitter, or later when the
receiver's ``Retry-After`` asks for it (capped); after the last wait the delivery fails."""

import random
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

from seedance.conf import setting


def retry_after_seconds(value: str | None, *, now: datetime) -> float | None:
    """``Retry-After`` as seconds from ``now`` (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - now).total_seconds())


def next_retry_at(
    attempts: int, *, now: datetime, retry_after: float | None = None
) -> datetime | None:
    """When the attempt after the ``attempts``-th failed one is due; None: give up."""
    schedule = [float(seconds) for seconds in setting("WEBHOOK_RETRY_SCHEDULE_SECONDS")]
    if attempts > len(schedule):
        return None
    jitter = float(setting("WEBHOOK_RETRY_JITTER"))
    wait = schedule[attempts - 1] * random.uniform(1 - jitter, 1 + jitter)  # noqa: S311
    if retry_after is not None:
        ceiling = float(setting("WEBHOOK_RETRY_AFTER_MAX_SECONDS"))
        wait = max(wait, min(retry_after, ceiling))
    return now + timedelta(seconds=wait)
