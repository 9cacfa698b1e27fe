"""Error reports: invalid meter events, gathered per meter and window, become thin events.

Stripe aggregates meter event errors and sends ``v1.billing.meter.error_report_triggered``
(related to the meter) or ``v1.billing.meter.no_meter_found`` (no meter to relate to). The
fake closes a window once its oldest error is ``report_delay_seconds`` old (or on flush).
"""

from collections import Counter
from typing import Any

from .store import Store, new_id
from .validation import NO_METER

ERROR_REPORT = "v1.billing.meter.error_report_triggered"
NO_METER_FOUND = "v1.billing.meter.no_meter_found"


def report_due_errors(store: Store, *, force: bool = False) -> list[dict[str, Any]]:
    """Turn pending errors into thin events, one per meter (and one for unknown names)."""
    if not store.pending_errors:
        return []
    oldest = min(error["created"] for error in store.pending_errors)
    if not force and store.now() - oldest < store.config.report_delay_seconds:
        return []
    groups: dict[str | None, list[dict[str, Any]]] = {}
    for error in store.pending_errors:
        groups.setdefault(error["meter"], []).append(error)
    store.pending_errors = []
    return [_thin_event(store, meter_id, errors) for meter_id, errors in groups.items()]


def _thin_event(store: Store, meter_id: str | None, errors: list[dict[str, Any]]) -> dict[str, Any]:
    counts = Counter(error["error"] for error in errors)
    error_types = [
        {
            "code": code,
            "error_count": count,
            "sample_errors": [
                {
                    "error_message": error["error_message"],
                    # Stripe's type documents ``request.identifier`` as "the request
                    # idempotency key"; a request sent without one is named by its event.
                    "request": {"identifier": error["idempotency_key"] or error["identifier"]},
                }
                for error in errors
                if error["error"] == code
            ][: store.config.sample_errors],
        }
        for code, count in counts.items()
    ]
    start = min(error["created"] for error in errors)
    kinds = ", ".join(f"{count} {code}" for code, count in counts.items())
    event: dict[str, Any] = {
        "id": new_id("evt_test", 20),
        "object": "v2.core.event",
        "type": NO_METER_FOUND if meter_id is None or set(counts) == {NO_METER} else ERROR_REPORT,
        "created": store.iso(),
        "livemode": False,
        "context": None,
        "reason": None,
        "data": {
            "developer_message_summary": f"{len(errors)} invalid meter events ({kinds}).",
            "reason": {"error_count": len(errors), "error_types": error_types},
            "validation_start": store.iso(start),
            "validation_end": store.iso(),
        },
    }
    if event["type"] == ERROR_REPORT:
        event["related_object"] = {
            "id": meter_id,
            "type": "billing.meter",
            "url": f"/v1/billing/meters/{meter_id}",
        }
    store.thin_events[event["id"]] = event
    return event
