"""Stripe's thin events (an event destination of payload style "thin"), on seedance's
signed-webhook base: parsed and verified with stripe-python's own
``parse_event_notification`` against each configured secret (two during a rotation), then
the full event fetched from Stripe, since a thin event carries only ids.
"""

from typing import Any

import stripe
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request

from billing.conf import setting
from billing.meter_errors import ERROR_EVENTS, meter_error_report_apply
from billing.stripe_client import stripe_client
from seedance.inbound.views import Applied, Delivery, DeliveryRejected, SignedWebhookView
from seedance.models import InboundDelivery

SOURCE = "stripe-events"


@extend_schema(exclude=True)
class StripeThinEventView(SignedWebhookView):
    source = SOURCE

    def verify(self, request: Request) -> None:
        signature = request.headers.get("Stripe-Signature")
        if not signature:
            raise DeliveryRejected("invalid_signature", "Missing Stripe-Signature.")
        client = stripe_client()
        for secret in setting("STRIPE_EVENT_SECRETS"):
            try:
                self.notification = client.parse_event_notification(request.body, signature, secret)
            except stripe.SignatureVerificationError:
                continue
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                # Signed but not a thin event (the SDK indexes the body as it reads it).
                raise DeliveryRejected("malformed_event", f"Not a thin event: {exc!r}") from exc
            return
        raise DeliveryRejected("invalid_signature", "Bad signature or stale timestamp.")

    def parse(self, request: Request, **kwargs: Any) -> Delivery:
        notification = self.notification
        related = getattr(notification, "related_object", None)
        return Delivery(
            dedupe_key=str(notification.id),
            payload=notification,
            event_type=str(notification.type),
            object_id=str(getattr(related, "id", "") or ""),
        )

    def apply(self, delivery: Delivery, **kwargs: Any) -> Applied:
        if delivery.event_type not in ERROR_EVENTS:
            return Applied(InboundDelivery.Outcome.IGNORED, {"received": True, "applied": False})
        event = delivery.payload.fetch_event()
        flagged = meter_error_report_apply(event)
        return Applied(
            InboundDelivery.Outcome.APPLIED, {"received": True, "applied": True, "flagged": flagged}
        )
