"""The signed-webhook base view: verify the raw body, record the delivery once, apply it.

In the manner of anymail's webhook views and dj-stripe's ``WebhookEventTrigger``. A source
supplies ``verify``, ``parse`` and ``apply``. A refusal (``DeliveryRejected``) is counted
and answered with the source's 4xx. An accepted delivery is recorded and applied in one
transaction, and a repeat only bumps its record's ``replays`` and gets a 2xx. Our own
failure rolls both back and answers 500 so the sender retries.
"""

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, cast

from django.db import transaction
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from seedance.api.errors import error_body
from seedance.inbound.records import delivery_claim, delivery_settle, rejection_record
from seedance.models import InboundDelivery

if TYPE_CHECKING:
    from rest_framework.views import AsView


class DeliveryRejected(Exception):
    """A delivery we refuse (bad signature, unreadable body, unknown object): nothing applied."""

    def __init__(self, code: str, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


@dataclass(frozen=True)
class Delivery:
    """A verified, parsed delivery: what identifies its repeats and what its record shows."""

    dedupe_key: str
    payload: Any
    event_type: str = ""
    subject: str = ""
    object_id: str = ""
    request_id: str = ""


@dataclass(frozen=True)
class Applied:
    outcome: str
    body: dict[str, Any]
    status: int = 200


class SignedWebhookView(ABC, APIView):
    source: ClassVar[str]
    authentication_classes = ()
    permission_classes = (AllowAny,)
    parser_classes = ()

    @classmethod
    def as_view(cls, **initkwargs: Any) -> "AsView[Any]":
        """Outside ATOMIC_REQUESTS: a refusal's record must survive the error answer."""
        return cast("AsView[Any]", transaction.non_atomic_requests(super().as_view(**initkwargs)))

    @abstractmethod
    def verify(self, request: Request) -> None:
        """Check the signature over the raw body; raise DeliveryRejected if it fails."""

    @abstractmethod
    def parse(self, request: Request, **kwargs: Any) -> Delivery:
        """Read the verified body; raise DeliveryRejected for one we cannot use."""

    @abstractmethod
    def apply(self, delivery: Delivery, **kwargs: Any) -> Applied:
        """Act on a first delivery, inside the transaction that records it."""

    def replayed(self, record: InboundDelivery, **kwargs: Any) -> Response:
        return Response({"received": True, "replay": True, "outcome": record.outcome})

    def rejected(self, rejection: DeliveryRejected) -> Response:
        return Response(error_body(rejection.code, rejection.message), status=rejection.status)

    def _verified_delivery(self, request: Request, **kwargs: Any) -> Delivery:
        """Verify, then parse; a body nested past the JSON decoder's limit is unreadable.

        Caught here once for every source: the thin events' SDK parses inside ``verify``.
        """
        try:
            self.verify(request)
            return self.parse(request, **kwargs)
        except RecursionError:
            raise DeliveryRejected(
                "malformed_body", "The JSON body is nested too deeply."
            ) from None

    def post(self, request: Request, **kwargs: Any) -> Response:
        try:
            delivery = self._verified_delivery(request, **kwargs)
            with transaction.atomic():
                record, first = delivery_claim(
                    source=self.source,
                    dedupe_key=delivery.dedupe_key,
                    event_type=delivery.event_type,
                    subject=delivery.subject,
                    object_id=delivery.object_id,
                    request_id=delivery.request_id,
                )
                if not first:
                    return self.replayed(record, **kwargs)
                applied = self.apply(delivery, **kwargs)
                delivery_settle(record, outcome=applied.outcome)
        except DeliveryRejected as rejection:
            rejection_record(
                source=self.source,
                reason=rejection.code,
                message=rejection.message,
                body=request.body,
            )
            return self.rejected(rejection)
        return Response(applied.body, status=applied.status)
