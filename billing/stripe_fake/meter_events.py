"""Meter events and their cancellation: accepted first, validated later, as Stripe does.

At request time Stripe checks only the request's shape, and so does the fake (all 400
``invalid_request_error``): ``event_name`` and ``payload`` present, payload values strings,
``timestamp`` an integer, ``identifier`` at most 100 characters, and no identifier reused
within 24 h (code ``resource_already_exists``, ``Stripe-Should-Retry: false``).

Everything else is judged after the 200 (``validation.py``): a meter event that fails is kept
but never counted, and reported later in a thin event (``reports.py``).
"""

import uuid
from typing import Any

from stripe.params.billing import MeterEventAdjustmentCreateParams, MeterEventCreateParams

from .forms import ApiError, hash_, integer, invalid, missing, text
from .store import DAY, Store, route
from .validation import judge

MAX_IDENTIFIER = 100


def create_meter_event(store: Store, params: dict[str, Any]) -> dict[str, Any]:
    event_name = text(params, "event_name", required=True) or ""
    payload = hash_(params, "payload")
    if not payload:
        raise missing("payload")
    for key, value in payload.items():
        if not isinstance(value, str):
            raise invalid("Invalid payload: values must be strings.", param=f"payload[{key}]")
    raw_timestamp = params.get("timestamp")
    timestamp = (
        integer(raw_timestamp, "timestamp", signed=True)
        if raw_timestamp not in (None, "")
        else None
    )
    identifier = text(params, "identifier")
    if identifier is not None and len(identifier) > MAX_IDENTIFIER:
        raise invalid(
            f"Invalid identifier: at most {MAX_IDENTIFIER} characters (got {len(identifier)}).",
            param="identifier",
        )
    if identifier is not None and store.identifier_taken(identifier):
        raise duplicate(identifier)
    now = store.timestamp()
    identifier = identifier or str(uuid.uuid4())
    event: dict[str, Any] = {
        "identifier": identifier,
        "event_name": event_name,
        "payload": dict(payload),
        "timestamp": timestamp if timestamp is not None else now,
        "created": now,
        "canceled": False,
        "idempotency_key": store.context.get("idempotency_key"),
    }
    event.update(judge(store, event))
    store.record(event)
    if event["error"] is not None:
        store.pending_errors.append(event)
    return {
        "object": "billing.meter_event",
        "created": now,
        "event_name": event_name,
        "identifier": identifier,
        "livemode": False,
        "payload": payload,
        "timestamp": event["timestamp"],
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
