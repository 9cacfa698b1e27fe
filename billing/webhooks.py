"""Stripe's inbound webhooks on seedance's signed-webhook base: 300 s tolerance, then apply.

Bad signature or stale timestamp: 400 and nothing changes. A repeat of an event id: 200,
counted on its delivery record, not applied again. Our own failures stay 500 so Stripe
retries.
"""

import json
import time
from typing import Any

import stripe
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from billing.conf import setting
from billing.stripe_events import stripe_event_apply
from seedance.inbound.views import Applied, Delivery, DeliveryRejected, SignedWebhookView
from seedance.models import InboundDelivery

SOURCE = "stripe"
TOLERANCE_SECONDS = 300
EVENT_ID_MAX_CHARS = InboundDelivery._meta.get_field("dedupe_key").max_length or 255


@extend_schema(exclude=True)
class StripeWebhookView(SignedWebhookView):
    source = SOURCE

    def verify(self, request: Request) -> None:
        signature = request.headers.get("Stripe-Signature")
        if not signature:
            raise DeliveryRejected("invalid_signature", "Missing Stripe-Signature.")
        if not _verified(request.body, signature):
            raise DeliveryRejected("invalid_signature", "Bad signature or stale timestamp.")

    def parse(self, request: Request, **kwargs: Any) -> Delivery:
        try:
            event = json.loads(request.body)
        except ValueError as exc:
            raise DeliveryRejected("malformed_event", str(exc)) from exc
        problem = _malformed(event)
        if problem:
            raise DeliveryRejected("malformed_event", problem)
        obj_id = event["data"]["object"].get("id")
        return Delivery(
            dedupe_key=event["id"],
            payload=event,
            event_type=event["type"],
            object_id=obj_id if isinstance(obj_id, str) else "",
        )

    def apply(self, delivery: Delivery, **kwargs: Any) -> Applied:
        applied = stripe_event_apply(delivery.payload)
        outcome = InboundDelivery.Outcome.APPLIED if applied else InboundDelivery.Outcome.IGNORED
        return Applied(outcome, {"received": True, "applied": applied})

    def replayed(self, record: InboundDelivery, **kwargs: Any) -> Response:
        return Response({"received": True, "applied": False, "replay": True})


def _malformed(event: Any) -> str:
    """What every Stripe event has; '' when this one has it all."""
    if not isinstance(event, dict):
        return "An event is a JSON object."
    for key, kind in (("id", str), ("type", str), ("created", int), ("data", dict)):
        value = event.get(key)
        if not isinstance(value, kind) or isinstance(value, bool) or value == "":
            return f"'{key}' is missing or not a {kind.__name__}."
    if len(event["id"]) > EVENT_ID_MAX_CHARS:
        return f"'id' is longer than {EVENT_ID_MAX_CHARS} characters."
    if not isinstance(event["data"].get("object"), dict):
        return "'data.object' is missing or not an object."
    return ""


def _verified(payload: bytes, signature: str) -> bool:
    """Any configured endpoint secret will do: two are live during a rotation.

    The SDK refuses timestamps older than the tolerance; one as far in the future is
    refused here too, so a signed request is only good within 300 s either way.
    """
    if _timestamp(signature) > time.time() + TOLERANCE_SECONDS:
        return False
    for secret in setting("STRIPE_WEBHOOK_SECRETS"):
        try:
            stripe.WebhookSignature.verify_header(
                payload.decode(), signature, secret, tolerance=TOLERANCE_SECONDS
            )
        except (stripe.SignatureVerificationError, UnicodeDecodeError):
            continue
        return True
    return False


def _timestamp(signature: str) -> int:
    for item in signature.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t" and value.isdigit():
            return int(value)
    return 0
