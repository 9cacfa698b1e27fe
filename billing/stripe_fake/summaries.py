"""Meter event summaries: what Stripe will bill, eventually consistent with what it accepted.

An accepted, valid, uncanceled event counts by its ``timestamp``, and only once it is
``summary_lag_seconds`` old (Stripe aggregates asynchronously). Times align to minutes, or to
hours or UTC days with ``value_grouping_window``, as Stripe's reference requires.
"""

from decimal import Decimal
from itertools import pairwise
from typing import Any

from stripe.params.billing import MeterEventSummaryListParams

from .forms import choice, integer, invalid, missing, text
from .store import DAY, HOUR, Store, found, page, route

ALIGNMENT = {None: 60, "hour": HOUR, "day": DAY}


def usage(
    store: Store,
    meter: dict[str, Any],
    customer: str,
    start: int,
    end: int,
    *,
    received_by: float | None = None,
) -> Decimal:
    """The meter's aggregate for one customer over ``[start, end)`` as Stripe sees it now."""
    visible = store.now() - store.config.summary_lag_seconds
    cutoff = visible if received_by is None else min(visible, received_by)
    values = [
        event
        for event in store.events
        if event["meter"] == meter["id"]
        and event["error"] is None
        and not event["canceled"]
        and event["customer"] == customer
        and start <= event["timestamp"] < end
        and event["created"] <= cutoff
    ]
    if meter["default_aggregation"]["formula"] == "count":
        return Decimal(len(values))
    if meter["default_aggregation"]["formula"] == "last":
        return Decimal(values[-1]["value"]) if values else Decimal(0)
    return sum((Decimal(event["value"]) for event in values), Decimal(0))


def list_summaries(store: Store, params: dict[str, Any], meter_id: str) -> dict[str, Any]:
    meter = found(store.meters, meter_id, "billing meter")
    customer = text(params, "customer", required=True) or ""
    bounds = []
    for name in ("start_time", "end_time"):
        if params.get(name) in (None, ""):
            raise missing(name)
        bounds.append(integer(params[name], name))
    start, end = bounds
    window = text(params, "value_grouping_window")
    if window is not None:
        choice(params, "value_grouping_window", ("day", "hour"), "day")
    step = ALIGNMENT[window]
    for name, moment in (("start_time", start), ("end_time", end)):
        if moment % step:
            unit = {60: "minute", HOUR: "hour", DAY: "day (00:00 UTC)"}[step]
            raise invalid(f"{name} must be aligned with {unit} boundaries.", param=name)
    if start >= end:
        raise invalid("start_time must be before end_time.", param="start_time")
    edges = [*range(start, end, step if window else end - start), end]
    summaries = [
        {
            "id": f"mtrusum_{meter_id[4:]}{low}",
            "object": "billing.meter_event_summary",
            "aggregated_value": float(usage(store, meter, customer, low, high)),
            "end_time": high,
            "livemode": False,
            "meter": meter_id,
            "start_time": low,
        }
        for low, high in pairwise(edges)
    ]
    url = f"/v1/billing/meters/{meter_id}/event_summaries"
    return page(summaries, params, url, "meter event summary")


ROUTES = [
    route(
        "GET",
        "/v1/billing/meters/{id}/event_summaries",
        list_summaries,
        MeterEventSummaryListParams,
    ),
]
