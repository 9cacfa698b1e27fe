"""Stripe's inbound webhooks: verify the signature with a 300 s tolerance, then apply.

Bad signature or stale timestamp: 400 and nothing changes. A repeat of an event id: 200.
Our own failures stay 500 so Stripe retries.
"""

import json
import time

import stripe
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from billing.conf import setting
from billing.subscriptions import stripe_event_apply
from seedance.api.errors import error_body

TOLERANCE_SECONDS = 300


@extend_schema(exclude=True)
class StripeWebhookView(APIView):
    authentication_classes = ()
    permission_classes = (AllowAny,)
    parser_classes = ()

    def post(self, request: Request) -> Response:
        signature = request.headers.get("Stripe-Signature")
        if not signature:
            return Response(error_body("invalid_signature", "Missing Stripe-Signature."), 400)
        payload = request.body
        if not _verified(payload, signature):
            return Response(
                error_body("invalid_signature", "Bad signature or stale timestamp."), 400
            )
        try:
            event = json.loads(payload)
            applied = stripe_event_apply(event)
        except (ValueError, KeyError, TypeError) as exc:
            return Response(error_body("malformed_event", str(exc)), 400)
        return Response({"received": True, "applied": applied})


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
