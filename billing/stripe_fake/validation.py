"""What Stripe checks after it has answered 200: the meter, the customer, the value, the time.

``judge`` fills a meter event's ``meter``, ``customer``, ``value`` (a decimal string) and
``error`` (one of the error codes of ``v1.billing.meter.error_report_triggered``, or None).
"""

from decimal import Decimal, InvalidOperation
from typing import Any

from .store import DAY, Store

PAST_SECONDS = 35 * DAY
FUTURE_SECONDS = 5 * 60
NO_METER = "no_meter"


def judge(store: Store, event: dict[str, Any]) -> dict[str, Any]:
    verdict: dict[str, Any] = {"meter": None, "customer": None, "value": None, "error": None}
    meter = store.active_meter(event["event_name"]) or _archived(store, event["event_name"])
    if meter is None:
        return {**verdict, **_error(NO_METER, f"No meter for event_name {event['event_name']}.")}
    verdict["meter"] = meter["id"]
    payload = event["payload"]
    customer_key = meter["customer_mapping"]["event_payload_key"]
    customer_id = payload.get(customer_key) or None
    verdict["customer"] = customer_id
    value, value_error = _value(payload.get(meter["value_settings"]["event_payload_key"]), meter)
    verdict["value"] = value
    checks = (
        (meter["status"] != "active", "archived_meter", f"Meter {meter['id']} is inactive."),
        (
            customer_id is None,
            "meter_event_no_customer_defined",
            f"The payload has no {customer_key}.",
        ),
        (
            customer_id is not None and not _live_customer(store, customer_id),
            "meter_event_customer_not_found",
            f"Customer {customer_id} was not found.",
        ),
        (value_error is not None, "meter_event_invalid_value", value_error or ""),
        (
            event["timestamp"] < event["created"] - PAST_SECONDS,
            "timestamp_too_far_in_past",
            f"Timestamp {event['timestamp']} is more than 35 days in the past.",
        ),
        (
            event["timestamp"] > event["created"] + FUTURE_SECONDS,
            "timestamp_in_future",
            f"Timestamp {event['timestamp']} is more than 5 minutes in the future.",
        ),
    )
    for failed, code, message in checks:
        if failed:
            return {**verdict, **_error(code, message)}
    return verdict


def _error(code: str, message: str) -> dict[str, Any]:
    return {"error": code, "error_message": message}


def _archived(store: Store, event_name: str) -> dict[str, Any] | None:
    inactive = [m for m in store.meters.values() if m["event_name"] == event_name]
    return inactive[-1] if inactive else None


def _live_customer(store: Store, customer_id: str) -> bool:
    customer = store.customers.get(customer_id)
    return customer is not None and not customer.get("deleted", False)


def _value(raw: Any, meter: dict[str, Any]) -> tuple[str | None, str | None]:
    """A finite decimal string; a ``count`` meter may leave it out."""
    if raw in (None, ""):
        if meter["default_aggregation"]["formula"] == "count":
            return None, None
        return None, "The payload has no value."
    try:
        number = Decimal(raw)
    except InvalidOperation:
        return None, f"Value {raw!r} is not a number."
    if not number.is_finite() or "e" in raw.lower():
        return None, f"Value {raw!r} is not a number."
    return str(number), None
