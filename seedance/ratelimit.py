"""Atomic fixed-window counters shared by every process: the API's throttles count here.

With Redis as the default cache a hit is ``cache.add`` then ``cache.incr`` (Redis INCR).
Any other cache falls back to a ``RateCounter`` row bumped by a conditional UPDATE: the
database cache's ``incr`` is a get then a set, so parallel hits would be lost.
"""

import math
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.db.models import F

from seedance.models import RateCounter

_UNITS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60}
_UNITS |= {"h": 3600, "hour": 3600, "d": 86400, "day": 86400}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([a-z]+)\s*$")
_OFF = ("", "off", "none")


@dataclass(frozen=True)
class Rate:
    limit: int
    period: int  # seconds


@dataclass(frozen=True)
class Decision:
    allowed: bool
    #: Seconds until the window that refused this hit ends (0 when allowed).
    retry_after: int


def rate_parse(text: str | None) -> Rate | None:
    """``"60/min"``, ``"20/5m"``, ``"1000/hour"``; ``""`` or ``"off"`` is no limit."""
    if text is None or text.strip().lower() in _OFF:
        return None
    match = _RATE.match(text.lower())
    word = match.group(3) if match else ""
    unit = _UNITS.get(word) or (_UNITS.get(word[:-1]) if len(word) > 3 else None)
    if not match or not unit:
        raise ImproperlyConfigured(f"{text!r} is not a rate like '60/min' or '20/5m'")
    return Rate(limit=int(match.group(1)), period=int(match.group(2) or 1) * unit)


def rate_hit(scope: str, key: str, rate: Rate, *, now: float | None = None) -> Decision:
    """Count one hit of ``key`` in ``scope``; refused once the window holds ``rate.limit``."""
    now = time.time() if now is None else now
    window_start = math.floor(now / rate.period) * rate.period
    retry_after = max(1, math.ceil(window_start + rate.period - now))
    if isinstance(caches["default"], RedisCache):
        count = _redis_hit(f"rl:{scope}:{key}:{window_start}", rate.period)
        allowed = count <= rate.limit
    else:
        allowed = _row_hit(scope, key, window_start, rate)
    return Decision(allowed=allowed, retry_after=0 if allowed else retry_after)


def _redis_hit(cache_key: str, period: int) -> int:
    # The key outlives its window by a period, so it cannot expire between add and incr.
    cache = caches["default"]
    for _ in range(3):
        if cache.add(cache_key, 1, timeout=2 * period):
            return 1
        try:
            return int(cache.incr(cache_key))
        except ValueError:
            continue  # expired in between: add again
    raise RuntimeError(f"rate counter {cache_key} kept expiring")


def _row_hit(scope: str, key: str, window_start: int, rate: Rate) -> bool:
    """True when this hit fits: the row is bumped only while under the limit."""
    start = datetime.fromtimestamp(window_start, tz=UTC)
    counter = RateCounter.objects.filter(scope=scope, key=key, window_start=start)
    if counter.filter(count__lt=rate.limit).update(count=F("count") + 1):
        return True
    if rate.limit < 1 or counter.exists():
        return False
    expires_at = start + timedelta(seconds=rate.period)
    try:
        with transaction.atomic():
            RateCounter.objects.create(
                scope=scope, key=key, window_start=start, expires_at=expires_at, count=1
            )
    except IntegrityError:  # a parallel first hit made the row: count against it
        return bool(counter.filter(count__lt=rate.limit).update(count=F("count") + 1))
    # A new window: windows that have ended, of any key, count nothing any more.
    RateCounter.objects.filter(expires_at__lt=start).delete()
    return True
