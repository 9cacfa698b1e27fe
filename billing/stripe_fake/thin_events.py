"""v2 thin events and the event destinations that receive them (webhook endpoints only).

A destination's ``enabled_events`` name the event types it wants (``*`` for all). Each new
thin event queues one delivery per matching enabled destination; ``delivery.py`` sends it.
"""

import secrets
from typing import Any

from stripe.params.v2.core import (
    EventDestinationCreateParams,
    EventDestinationDeleteParams,
    EventDestinationListParams,
    EventDestinationRetrieveParams,
    EventListParams,
    EventRetrieveParams,
)

from .forms import as_list, invalid, metadata, missing, text
from .store import Store, found, new_id, route

SECRET = "webhook_endpoint.signing_secret"  # noqa: S105  (a field name, not a secret)
PAYLOADS = ("thin", "snapshot")


def add_destination(store: Store, url: str, enabled_events: list[str], secret: str | None) -> Any:
    """Register a webhook endpoint; ``secret`` defaults to a fresh ``whsec_`` one."""
    now = store.iso()
    destination: dict[str, Any] = {
        "id": new_id("ed_test", 20),
        "object": "v2.core.event_destination",
        "amazon_eventbridge": None,
        "azure_event_grid": None,
        "created": now,
        "description": "",
        "enabled_events": enabled_events,
        "event_payload": "thin",
        "events_from": ["@self"],
        "livemode": False,
        "metadata": {},
        "name": "",
        "snapshot_api_version": None,
        "status": "enabled",
        "status_details": None,
        "type": "webhook_endpoint",
        "updated": now,
        "webhook_endpoint": {
            "signing_secret": secret or f"whsec_{secrets.token_hex(16)}",
            "url": url,
        },
    }
    store.destinations[destination["id"]] = destination
    return destination


def create_destination(store: Store, params: dict[str, Any]) -> dict[str, Any]:
    name = text(params, "name", required=True) or ""
    kind = text(params, "type", required=True)
    if kind != "webhook_endpoint":
        raise invalid("The fake supports only type=webhook_endpoint.", param="type")
    payload = text(params, "event_payload", required=True)
    if payload not in PAYLOADS:
        raise invalid(f"Invalid event_payload: {payload}", param="event_payload")
    if payload != "thin":
        raise invalid("The fake delivers only thin events.", param="event_payload")
    events = params.get("enabled_events")
    if not isinstance(events, list) or not events:
        raise missing("enabled_events")
    endpoint = params.get("webhook_endpoint")
    url = endpoint.get("url") if isinstance(endpoint, dict) else None
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise missing("webhook_endpoint.url")
    destination = add_destination(store, url, [str(e) for e in events], None)
    destination.update(name=name, description=text(params, "description") or "")
    destination["metadata"] = metadata(params)
    return _shown(destination, params)


def _shown(destination: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """The signing secret is redacted unless ``include`` asks for it, as on Stripe."""
    include = params.get("include") or []
    include = include if isinstance(include, list) else as_list(params, "include")
    shown = {**destination, "webhook_endpoint": dict(destination["webhook_endpoint"])}
    if SECRET not in include:
        shown["webhook_endpoint"]["signing_secret"] = None
    return shown


def get_destination(store: Store, params: dict[str, Any], destination_id: str) -> dict[str, Any]:
    return _shown(found(store.destinations, destination_id, "event destination"), params)


def list_destinations(store: Store, params: dict[str, Any]) -> dict[str, Any]:
    data = [_shown(d, params) for d in store.destinations.values()]
    return {"data": data[::-1], "next_page_url": None, "previous_page_url": None}


def delete_destination(store: Store, params: dict[str, Any], destination_id: str) -> dict[str, Any]:
    found(store.destinations, destination_id, "event destination")
    del store.destinations[destination_id]
    store.deliveries = [d for d in store.deliveries if d["destination"] != destination_id]
    return {"id": destination_id, "object": "v2.core.event_destination", "deleted": True}


def get_event(store: Store, params: dict[str, Any], event_id: str) -> dict[str, Any]:
    return found(store.thin_events, event_id, "event")


def list_events(store: Store, params: dict[str, Any]) -> dict[str, Any]:
    object_id = text(params, "object_id")
    types = params.get("types") or []
    types = types if isinstance(types, list) else [types]
    data = [
        event
        for event in store.thin_events.values()
        if (object_id is None or (event.get("related_object") or {}).get("id") == object_id)
        and (not types or event["type"] in types)
    ]
    return {"data": data[::-1], "next_page_url": None, "previous_page_url": None}


def queue_deliveries(store: Store, events: list[dict[str, Any]]) -> None:
    for event in events:
        for destination in store.destinations.values():
            wanted = destination["enabled_events"]
            if destination["status"] == "enabled" and ("*" in wanted or event["type"] in wanted):
                store.deliveries.append(
                    {
                        "id": new_id("dlv"),
                        "event": event["id"],
                        "destination": destination["id"],
                        "due": store.now(),
                        "attempts": 0,
                        "status": "pending",
                        "answers": [],
                    }
                )


ROUTES = [
    route("POST", "/v2/core/event_destinations", create_destination, EventDestinationCreateParams),
    route("GET", "/v2/core/event_destinations", list_destinations, EventDestinationListParams),
    route(
        "GET",
        "/v2/core/event_destinations/{id}",
        get_destination,
        EventDestinationRetrieveParams,
    ),
    route(
        "DELETE",
        "/v2/core/event_destinations/{id}",
        delete_destination,
        EventDestinationDeleteParams,
    ),
    route("GET", "/v2/core/events", list_events, EventListParams),
    route("GET", "/v2/core/events/{id}", get_event, EventRetrieveParams),
]
