"""v1 webhook endpoints and the snapshot events Stripe sends them (``customer.updated``...).

An event carries a copy of its object as it was when the event happened (``data.object``) and,
for ``*.updated``, the changed fields' old values (``data.previous_attributes``). Each event
queues one delivery per enabled endpoint listening for its type; ``delivery.py`` sends it
after the answer, as Stripe does, signed with the endpoint's ``whsec_`` secret.
"""

import copy
import secrets
from typing import Any

from stripe.params import (
    EventListParams,
    EventRetrieveParams,
    WebhookEndpointCreateParams,
    WebhookEndpointDeleteParams,
    WebhookEndpointListParams,
    WebhookEndpointRetrieveParams,
)

from .forms import as_list, invalid, metadata, missing, text
from .store import Store, found, new_id, page, route

API_VERSION = "2026-10-28.endive"


def add_webhook_endpoint(
    store: Store, url: str, enabled_events: list[str], secret: str | None = None
) -> dict[str, Any]:
    """Register an endpoint; ``secret`` defaults to a fresh ``whsec_`` one."""
    endpoint: dict[str, Any] = {
        "id": new_id("we"),
        "object": "webhook_endpoint",
        "api_version": API_VERSION,
        "application": None,
        "created": store.timestamp(),
        "description": None,
        "enabled_events": enabled_events,
        "livemode": False,
        "metadata": {},
        "secret": secret or f"whsec_{secrets.token_hex(16)}",
        "status": "enabled",
        "url": url,
    }
    store.webhook_endpoints[endpoint["id"]] = endpoint
    return endpoint


def create_webhook_endpoint(store: Store, params: dict[str, Any]) -> dict[str, Any]:
    url = text(params, "url", required=True) or ""
    if not url.startswith(("http://", "https://")):
        raise invalid(f"Invalid URL: {url}", param="url", code="url_invalid")
    events = [str(kind) for kind in as_list(params, "enabled_events")]
    if not events:
        raise missing("enabled_events")
    endpoint = add_webhook_endpoint(store, url, events)
    endpoint["description"] = text(params, "description")
    endpoint["metadata"] = metadata(params)
    return endpoint


def _shown(endpoint: dict[str, Any]) -> dict[str, Any]:
    """Stripe shows the secret only in the create answer."""
    return {key: value for key, value in endpoint.items() if key != "secret"}


def get_webhook_endpoint(store: Store, params: dict[str, Any], endpoint_id: str) -> dict[str, Any]:
    return _shown(found(store.webhook_endpoints, endpoint_id, "webhook endpoint"))


def list_webhook_endpoints(store: Store, params: dict[str, Any]) -> dict[str, Any]:
    endpoints = [_shown(e) for e in store.webhook_endpoints.values()]
    return page(endpoints, params, "/v1/webhook_endpoints", "webhook endpoint")


def delete_webhook_endpoint(
    store: Store, params: dict[str, Any], endpoint_id: str
) -> dict[str, Any]:
    found(store.webhook_endpoints, endpoint_id, "webhook endpoint")
    del store.webhook_endpoints[endpoint_id]
    return {"id": endpoint_id, "object": "webhook_endpoint", "deleted": True}


def emit(
    store: Store, kind: str, obj: dict[str, Any], previous: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Record that ``kind`` happened to ``obj`` (copied now) and queue its deliveries."""
    data: dict[str, Any] = {"object": copy.deepcopy(obj)}
    if previous:
        data["previous_attributes"] = copy.deepcopy(previous)
    context = store.context
    event: dict[str, Any] = {
        "id": new_id("evt"),
        "object": "event",
        "api_version": API_VERSION,
        "created": store.timestamp(),
        "data": data,
        "livemode": False,
        "pending_webhooks": 0,
        "request": {
            "id": context.get("request_id"),
            "idempotency_key": context.get("idempotency_key"),
        },
        "type": kind,
    }
    store.v1_events[event["id"]] = event
    for endpoint in store.webhook_endpoints.values():
        wanted = endpoint["enabled_events"]
        if endpoint["status"] == "enabled" and ("*" in wanted or kind in wanted):
            event["pending_webhooks"] += 1
            store.deliveries.append(
                {
                    "id": new_id("dlv"),
                    "kind": "snapshot",
                    "event": event["id"],
                    "destination": endpoint["id"],
                    "due": store.now(),
                    "attempts": 0,
                    "status": "pending",
                    "answers": [],
                }
            )
    return event


def get_event(store: Store, params: dict[str, Any], event_id: str) -> dict[str, Any]:
    return found(store.v1_events, event_id, "event")


def list_events(store: Store, params: dict[str, Any]) -> dict[str, Any]:
    kind = text(params, "type")
    events = [e for e in store.v1_events.values() if kind is None or e["type"] == kind]
    return page(events, params, "/v1/events", "event")


ROUTES = [
    route("POST", "/v1/webhook_endpoints", create_webhook_endpoint, WebhookEndpointCreateParams),
    route("GET", "/v1/webhook_endpoints", list_webhook_endpoints, WebhookEndpointListParams),
    route("GET", "/v1/webhook_endpoints/{id}", get_webhook_endpoint, WebhookEndpointRetrieveParams),
    route(
        "DELETE", "/v1/webhook_endpoints/{id}", delete_webhook_endpoint, WebhookEndpointDeleteParams
    ),
    route("GET", "/v1/events", list_events, EventListParams),
    route("GET", "/v1/events/{id}", get_event, EventRetrieveParams),
]
