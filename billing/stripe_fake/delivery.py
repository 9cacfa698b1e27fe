"""Sending events to webhook endpoints, signed as Stripe signs them, retried on failure.

Thin events (v2 event destinations) go as their notification; snapshot events (v1 webhook
endpoints) go whole, as Stripe sends ``customer.updated`` and its kin.

The ``Stripe-Signature`` header is ``t=<unix time>,v1=<hex HMAC-SHA256 of "t.body">`` with the
destination's signing secret, which ``StripeClient.parse_event_notification`` verifies. Its
``t`` is the wall clock, since the SDK checks it against ``time.time()``.
"""

import hashlib
import hmac
import json
import logging
import time
from dataclasses import dataclass
from typing import Any

import httpx

from .store import Store

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 5.0
NOTIFICATION_FIELDS = ("id", "object", "type", "created", "livemode", "context", "reason")


@dataclass(frozen=True)
class Attempt:
    delivery_id: str
    url: str
    secret: str
    body: str


def signature(body: str, secret: str, timestamp: int | None = None) -> str:
    moment = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{moment}.{body}".encode(), hashlib.sha256).hexdigest()
    return f"t={moment},v1={digest}"


def notification(event: dict[str, Any]) -> dict[str, Any]:
    """What a thin event destination receives: ids and the related object, no ``data``."""
    shown = {name: event.get(name) for name in NOTIFICATION_FIELDS}
    if "related_object" in event:
        shown["related_object"] = event["related_object"]
    return shown


def due(store: Store, *, force: bool = False) -> list[Attempt]:
    """The deliveries to try now (all pending ones when forced); call under the store lock."""
    attempts = []
    for delivery in store.deliveries:
        if delivery["status"] != "pending" or (not force and delivery["due"] > store.now()):
            continue
        attempt = _attempt(store, delivery)
        if attempt is None:
            delivery["status"] = "abandoned"
            continue
        delivery["status"] = "sending"
        attempts.append(attempt)
    return attempts


def _attempt(store: Store, delivery: dict[str, Any]) -> Attempt | None:
    if delivery.get("kind") == "snapshot":
        endpoint = store.webhook_endpoints.get(delivery["destination"])
        event = store.v1_events.get(delivery["event"])
        if endpoint is None or event is None:
            return None
        return Attempt(delivery["id"], endpoint["url"], endpoint["secret"], json.dumps(event))
    destination = store.destinations.get(delivery["destination"])
    thin = store.thin_events.get(delivery["event"])
    if destination is None or thin is None:
        return None
    webhook = destination["webhook_endpoint"]
    body = json.dumps(notification(thin))
    return Attempt(delivery["id"], webhook["url"], webhook["signing_secret"], body)


def send(attempt: Attempt) -> int | None:
    """POST one notification; the status code, or None when the endpoint could not be reached."""
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "Stripe-Signature": signature(attempt.body, attempt.secret),
        "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
    }
    try:
        answer = httpx.post(
            attempt.url, content=attempt.body, headers=headers, timeout=TIMEOUT_SECONDS
        )
    except httpx.HTTPError as exc:
        logger.info("Stripe fake: delivery to %s failed: %s", attempt.url, exc)
        return None
    return answer.status_code


def settle(store: Store, attempt: Attempt, status: int | None) -> None:
    """A 2xx delivers; anything else waits ``retry_seconds`` doubling, up to ``max_attempts``."""
    for delivery in store.deliveries:
        if delivery["id"] != attempt.delivery_id:
            continue
        delivery["attempts"] += 1
        delivery["answers"].append(status)
        if status is not None and 200 <= status < 300:
            delivery["status"] = "delivered"
        elif delivery["attempts"] >= store.config.max_attempts:
            delivery["status"] = "failed"
        else:
            delivery["status"] = "pending"
            backoff = store.config.retry_seconds * 2 ** (delivery["attempts"] - 1)
            delivery["due"] = store.now() + backoff
