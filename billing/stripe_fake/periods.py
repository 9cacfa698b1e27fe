"""Billing periods: the first runs from the start (or backdate) to the anchor, then by interval."""

import calendar
from datetime import UTC, datetime
from typing import Any

from .store import DAY


def step(start: int, interval: str, count: int) -> int:
    """Calendar arithmetic as Stripe bills: Jan 31 plus a month is Feb 28 (or 29)."""
    if interval in ("day", "week"):
        return start + count * DAY * (7 if interval == "week" else 1)
    moment = datetime.fromtimestamp(start, UTC)
    months = moment.month - 1 + count * (12 if interval == "year" else 1)
    year, month = moment.year + months // 12, months % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return int(moment.replace(year=year, month=month, day=day).timestamp())


def cycle(subscription: dict[str, Any]) -> tuple[str, int]:
    recurring = subscription["items"]["data"][0]["price"]["recurring"]
    return recurring["interval"], recurring["interval_count"]


def first(subscription: dict[str, Any]) -> tuple[int, int]:
    start, anchor = subscription["start_date"], subscription["billing_cycle_anchor"]
    if anchor > start:
        return start, anchor
    interval, count = cycle(subscription)
    return start, step(start, interval, count)


def following(subscription: dict[str, Any], period: tuple[int, int]) -> tuple[int, int]:
    interval, count = cycle(subscription)
    anchor = subscription["billing_cycle_anchor"]
    index, end = 1, period[1]
    while end <= period[1]:
        end = step(anchor, interval, count * index)
        index += 1
    return period[1], end


def containing(subscription: dict[str, Any], moment: float) -> tuple[int, int]:
    period = first(subscription)
    while period[1] <= moment:
        period = following(subscription, period)
    return period
