"""Meter events and their cancellation: the checks usage must pass before it can bill anyone.

Refusals, all 400 ``invalid_request_error``:

- duplicate ``identifier`` within 24 h: code ``resource_already_exists``, message
  ``An event already exists with identifier <identifier>.`` (Stripe's wording) and
  ``Stripe-Should-Retry: false``;
- ``timestamp`` more than 35 days old: code ``timestamp_too_far_in_past``; more than
  5 minutes ahead: code ``timestamp_in_future``;
- a value or timestamp that is not a whole number: code ``parameter_invalid_integer``;
- no active meter for ``event_name``, or an unknown customer: code ``resource_missing``;
- a missing ``event_name``, customer or value: code ``parameter_missing``.
"""

import uuid
from typing import Any

from stripe.params.billing import MeterEventAdjustmentCreateParams, MeterEventCreateParams

from .forms import ApiError, hash_, integer, invalid, missing, text
from .store import DAY, Store, found, route

PAST_SECONDS = 35 * DAY
FUTURE_SECONDS = 5 * 60
MAX_IDENTIFIER = 100


def create_meter_event(store: Store, params: dict[str, Any]) -> dict[str, Any]:
    event_name = text(params, "event_name", required=True) or ""
    payload = hash_(params, "payload")
    if not payload:
        raise missing("payload")
    for key, value in payload.items():
        if not isinstance(value, str):
            raise invalid("Invalid payload: values must be strings.", param=f"payload[{key}]")
    meter = store.active_meter(event_name)
    if meter is None:
        raise invalid(
            f"No active meter was found with event_name '{event_name}'.",
            param="event_name",
            code="resource_missing",
        )
    customer_key = meter["customer_mapping"]["event_payload_key"]
    customer_id = payload.get(customer_key) or None
    if customer_id is None:
        raise missing(f"payload[{customer_key}]")
    value = _value(payload, meter)
    timestamp = _timestamp(store, params)
    identifier = text(params, "identifier")
    if identifier is not None and len(identifier) > MAX_IDENTIFIER:
        raise invalid(
            f"Invalid identifier: at most {MAX_IDENTIFIER} characters (got {len(identifier)}).",
            param="identifier",
        )
    found(store.customers, customer_id, "customer", param=f"payload[{customer_key}]", status=400)
    if identifier is not None and store.identifier_taken(identifier):
        raise duplicate(identifier)
    now = store.timestamp()
    identifier = identifier or str(uuid.uuid4())
    store.record(
        {
            "identifier": identifier,
            "customer": customer_id,
            "event_name": event_name,
            "meter": meter["id"],
            "value": value,
            "timestamp": timestamp if timestamp is not None else now,
            "created": now,
            "canceled": False,
        }
    )
    return {
        "object": "billing.meter_event",
        "created": now,
        "event_name": event_name,
        "identifier": identifier,
        "livemode": False,
        "payload": payload,
        "timestamp": timestamp if timestamp is not None else now,
    }


def duplicate(identifier: str) -> ApiError:
    """Stripe's answer to a reused identifier; for a sender it means "already recorded"."""
    return ApiError(
        400,
        f"An event already exists with identifier {identifier}.",
        param="identifier",
        code="resource_already_exists",
        headers={"Stripe-Should-Retry": "false"},
    )


def _value(payload: dict[str, Any], meter: dict[str, Any]) -> int | None:
    """A whole number sent as a string; a ``count`` meter may leave it out."""
    key = meter["value_settings"]["event_payload_key"]
    raw = payload.get(key)
    if raw in (None, ""):
        if meter["default_aggregation"]["formula"] == "count":
            return None
        raise missing(f"payload[{key}]")
    return integer(raw, f"payload[{key}]")


def _timestamp(store: Store, params: dict[str, Any]) -> int | None:
    raw = params.get("timestamp")
    if raw in (None, ""):
        return None
    timestamp = integer(raw, "timestamp", signed=True)
    now = store.now()
    if timestamp < now - PAST_SECONDS:
        raise invalid(
            f"Timestamp {timestamp} is too far in the past: meter events must be "
            f"within the past 35 days.",
            param="timestamp",
            code="timestamp_too_far_in_past",
        )
    if timestamp > now + FUTURE_SECONDS:
        raise invalid(
            f"Timestamp {timestamp} is in the future: meter events may be at most 5 minutes ahead.",
            param="timestamp",
            code="timestamp_in_future",
        )
    return timestamp


def create_adjustment(store: Store, params: dict[str, Any]) -> dict[str, Any]:
    """Cancel one event by identifier, within 24 hours of Stripe receiving it."""
    event_name = text(params, "event_name", required=True) or ""
    kind = text(params, "type", required=True)
    if kind != "cancel":
        raise invalid(f"Invalid type: {kind}; only cancel is supported.", param="type")
    identifier = text(hash_(params, "cancel"), "identifier")
    if identifier is None:
        raise missing("cancel[identifier]")
    event = store.identifiers.get(identifier)
    if event is None or event["event_name"] != event_name:
        raise invalid(
            f"No meter event with identifier '{identifier}' and event_name '{event_name}'.",
            param="cancel[identifier]",
            code="resource_missing",
        )
    if store.now() - event["created"] >= DAY:
        raise invalid(
            "Meter events can only be canceled within 24 hours of being received.",
            param="cancel[identifier]",
        )
    if event["canceled"]:
        raise invalid(
            f"The meter event with identifier '{identifier}' is already canceled.",
            param="cancel[identifier]",
        )
    event["canceled"] = True
    return {
        "object": "billing.meter_event_adjustment",
        "cancel": {"identifier": identifier},
        "event_name": event_name,
        "livemode": False,
        "status": "pending",
        "type": "cancel",
    }


ROUTES = [
    route("POST", "/v1/billing/meter_events", create_meter_event, MeterEventCreateParams),
    route(
        "POST",
        "/v1/billing/meter_event_adjustments",
        create_adjustment,
        MeterEventAdjustmentCreateParams,
    ),
]
