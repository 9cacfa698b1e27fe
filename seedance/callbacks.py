"""Runflow's inbound callbacks: verify the raw body, parse it, hand it to the service.

Whatever the sender sent, the answer is a 4xx, never a 500: 401 for a bad signature,
400 for a body we cannot read, 404 for a run we do not know. Our own failures stay 500
so Runflow retries.
"""

import json
from uuid import UUID

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from seedance.api.errors import error_body
from seedance.conf import setting
from seedance.exceptions import CallbackRejected
from seedance.models import CallbackReceipt, Run
from seedance.runflow import signing
from seedance.runflow.payloads import PayloadError, parse_callback
from seedance.services.callbacks import callback_receive


@extend_schema(exclude=True)
class RunflowCallbackView(APIView):
    authentication_classes = ()
    permission_classes = (AllowAny,)
    parser_classes = ()

    def post(self, request: Request, run_id: str) -> Response:
        body = request.body
        if not signing.verify(
            body, request.headers.get(signing.SIGNATURE_HEADER), setting("CALLBACK_SECRETS")
        ):
            raise CallbackRejected("Missing or invalid Runflow-Signature.")
        try:
            provider_run = parse_callback(json.loads(body))
        except (ValueError, PayloadError) as exc:
            return Response(error_body("malformed_callback", str(exc)), status=400)
        try:
            result = callback_receive(
                run_id=UUID(run_id),
                provider_run=provider_run,
                request_id=request.headers.get(signing.REQUEST_ID_HEADER, ""),
                body=body,
            )
        except (ValueError, Run.DoesNotExist):
            return Response(error_body("not_found", "Unknown run."), status=404)
        if result.outcome == CallbackReceipt.Outcome.MISMATCH:
            return Response(
                error_body("run_mismatch", "This callback belongs to another run."),
                status=status.HTTP_409_CONFLICT,
            )
        return Response({"received": True, "outcome": result.outcome, "status": result.run.status})
