"""Sending thin events to webhook endpoints, signed as Stripe signs them, retried on failure.

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
        destination = store.destinations.get(delivery["destination"])
        event = store.thin_events.get(delivery["event"])
        if destination is None or event is None:
            delivery["status"] = "abandoned"
            continue
        endpoint = destination["webhook_endpoint"]
        body = json.dumps(notification(event))
        delivery["status"] = "sending"
        attempts.append(Attempt(delivery["id"], endpoint["url"], endpoint["signing_secret"], body))
    return attempts


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
