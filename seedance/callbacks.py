"""Runflow's inbound callbacks, on the signed-webhook base: each is a wake-up, answered at
once; what Runflow's GET then says is applied (``seedance.services.callbacks``).

Whatever the sender sent, the answer is a 4xx, never a 500: 401 for a bad signature,
400 for a body we cannot read, 404 for a run we do not know, 409 for a callback about
another run. A repeat of the same body to the same run is a 200 that changes nothing.
Our own failures stay 500 so Runflow retries.
"""

import json
from typing import Any
from uuid import UUID

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from seedance.api.errors import error_body
from seedance.conf import setting
from seedance.exceptions import CallbackRejected
from seedance.inbound.views import Applied, Delivery, DeliveryRejected, SignedWebhookView
from seedance.models import InboundDelivery, Run
from seedance.runflow import signing
from seedance.runflow.payloads import PayloadError, ProviderRun, parse_callback
from seedance.services.callbacks import callback_dedupe_key, callback_receive

SOURCE = "runflow"


@extend_schema(exclude=True)
class RunflowCallbackView(SignedWebhookView):
    source = SOURCE

    def verify(self, request: Request) -> None:
        if not signing.verify(
            request.body,
            request.headers.get(signing.SIGNATURE_HEADER),
            setting("CALLBACK_SECRETS"),
        ):
            raise DeliveryRejected(
                "invalid_signature", "Missing or invalid Runflow-Signature.", status=401
            )

    def parse(self, request: Request, **kwargs: Any) -> Delivery:
        try:
            provider_run = parse_callback(json.loads(request.body))
        except (ValueError, PayloadError) as exc:
            raise DeliveryRejected("malformed_callback", str(exc)) from exc
        run_id = _run_id(kwargs["run_id"])
        return Delivery(
            dedupe_key=callback_dedupe_key(run_id=run_id, body=request.body),
            payload=provider_run,
            event_type=provider_run.raw_status,
            subject=str(run_id),
            object_id=provider_run.id,
            request_id=request.headers.get(signing.REQUEST_ID_HEADER, ""),
        )

    def apply(self, delivery: Delivery, **kwargs: Any) -> Applied:
        provider_run: ProviderRun = delivery.payload
        try:
            result = callback_receive(run_id=_run_id(kwargs["run_id"]), provider_run=provider_run)
        except Run.DoesNotExist as exc:
            raise DeliveryRejected("not_found", "Unknown run.", status=404) from exc
        if result.outcome == InboundDelivery.Outcome.MISMATCH:
            return Applied(
                result.outcome,
                error_body("run_mismatch", "This callback belongs to another run."),
                status.HTTP_409_CONFLICT,
            )
        return Applied(
            result.outcome,
            {"received": True, "outcome": result.outcome, "status": result.run.status},
        )

    def replayed(self, record: InboundDelivery, **kwargs: Any) -> Response:
        run_status = Run.objects.filter(pk=record.subject).values_list("status", flat=True).first()
        return Response(
            {"received": True, "replay": True, "outcome": record.outcome, "status": run_status}
        )

    def rejected(self, rejection: DeliveryRejected) -> Response:
        """A bad signature is the pipeline's CallbackRejected: 401 from the API's handler."""
        if rejection.status == status.HTTP_401_UNAUTHORIZED:
            raise CallbackRejected(rejection.message) from rejection
        return super().rejected(rejection)


def _run_id(value: str) -> UUID:
    try:
        return UUID(value)
    except ValueError as exc:
        raise DeliveryRejected("not_found", "Unknown run.", status=404) from exc
