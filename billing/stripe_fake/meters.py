"""Billing meters: which event name counts usage, and which payload keys carry it."""

from typing import Any

from stripe.params.billing import (
    MeterCreateParams,
    MeterDeactivateParams,
    MeterListParams,
    MeterReactivateParams,
    MeterRetrieveParams,
)

from .forms import ApiError, choice, hash_, invalid, missing, text
from .store import Store, found, new_id, page, route

MAPPING = "customer_mapping"


def create_meter(store: Store, params: dict[str, Any]) -> dict[str, Any]:
    display_name = text(params, "display_name", required=True)
    event_name = text(params, "event_name", required=True) or ""
    aggregation = hash_(params, "default_aggregation")
    if not text(aggregation, "formula"):
        raise missing("default_aggregation[formula]")
    formula = choice(aggregation, "formula", ("count", "last", "sum"), "sum")
    mapping = hash_(params, "customer_mapping")
    if mapping and mapping.get("type") != "by_id":
        raise invalid("Invalid customer_mapping[type]: must be by_id", param=f"{MAPPING}[type]")
    if mapping and not text(mapping, "event_payload_key"):
        raise missing(f"{MAPPING}[event_payload_key]")
    value_settings = hash_(params, "value_settings")
    if store.active_meter(event_name) is not None:
        raise _taken(event_name)
    now = store.timestamp()
    meter: dict[str, Any] = {
        "id": new_id("mtr"),
        "object": "billing.meter",
        "created": now,
        "customer_mapping": {
            "event_payload_key": mapping.get("event_payload_key", "stripe_customer_id"),
            "type": "by_id",
        },
        "default_aggregation": {"formula": formula},
        "display_name": display_name,
        "event_name": event_name,
        "event_time_window": text(params, "event_time_window"),
        "livemode": False,
        "status": "active",
        "status_transitions": {"deactivated_at": None},
        "updated": now,
        "value_settings": {
            "event_payload_key": text(value_settings, "event_payload_key") or "value"
        },
    }
    store.meters[meter["id"]] = meter
    return meter


def _taken(event_name: str) -> ApiError:
    return invalid(
        f"An active meter with event_name '{event_name}' already exists.",
        param="event_name",
        code="resource_already_exists",
    )


def get_meter(store: Store, params: dict[str, Any], meter_id: str) -> dict[str, Any]:
    return found(store.meters, meter_id, "billing meter")


def list_meters(store: Store, params: dict[str, Any]) -> dict[str, Any]:
    status = text(params, "status")
    if status not in (None, "active", "inactive"):
        raise invalid(f"Invalid status: {status}", param="status")
    meters = [m for m in store.meters.values() if status is None or m["status"] == status]
    return page(meters, params, "/v1/billing/meters", "billing meter")


def deactivate_meter(store: Store, params: dict[str, Any], meter_id: str) -> dict[str, Any]:
    meter = get_meter(store, params, meter_id)
    now = store.timestamp()
    meter.update(status="inactive", status_transitions={"deactivated_at": now}, updated=now)
    return meter


def reactivate_meter(store: Store, params: dict[str, Any], meter_id: str) -> dict[str, Any]:
    meter = get_meter(store, params, meter_id)
    if meter["status"] == "active":
        return meter
    if store.active_meter(meter["event_name"]) is not None:
        raise _taken(meter["event_name"])
    meter.update(status="active", status_transitions={"deactivated_at": None})
    meter["updated"] = store.timestamp()
    return meter


ROUTES = [
    route("POST", "/v1/billing/meters", create_meter, MeterCreateParams),
    route("GET", "/v1/billing/meters", list_meters, MeterListParams),
    route("GET", "/v1/billing/meters/{id}", get_meter, MeterRetrieveParams),
    route("POST", "/v1/billing/meters/{id}/deactivate", deactivate_meter, MeterDeactivateParams),
    route("POST", "/v1/billing/meters/{id}/reactivate", reactivate_meter, MeterReactivateParams),
]
