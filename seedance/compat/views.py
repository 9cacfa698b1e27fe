"""The Runflow-compatible surface: each view parses Runflow's request, calls the service
``/api/v1`` calls, and answers in Runflow's shape (``seedance.compat.shapes``)."""

from collections.abc import Collection
from typing import Any, ClassVar

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from seedance.api.authentication import actor_of, tenant_of
from seedance.api.base import ApiView
from seedance.api.views import idempotency_key, uuid_or_404
from seedance.charges import charges_of
from seedance.compat import MODEL_ID
from seedance.compat.callback_secrets import (
    callback_secret_create,
    callback_secret_list,
    callback_secret_revoke,
)
from seedance.compat.create import parse_create_body
from seedance.compat.errors import runflow_exception_handler
from seedance.compat.listing import RunflowPagination, page_body, runs_matching
from seedance.compat.shapes import as_inserted, run_object, runflow_runs
from seedance.models import CallbackSecret, Run
from seedance.public_status import with_public_status_as_inserted
from seedance.services.runs import run_create


@extend_schema(exclude=True)
class RunflowView(ApiView):
    """Runflow's error envelope; a 404 names what was not found."""

    not_found_code: ClassVar[str] = "NOT_FOUND"

    def get_exception_handler(self) -> Any:
        return runflow_exception_handler


def _answer(request: Request, runs: list[Run]) -> list[dict[str, Any]]:
    tenant = tenant_of(request)
    charges = charges_of([run.pk for run in runs])
    return [
        run_object(run, tenant=tenant, request=request, charge=charges.get(run.pk)) for run in runs
    ]


class OtherModelRuns(RunflowView):
    """Runflow's catalogue but our one model: ``MODEL_NOT_FOUND``, to a key that works."""

    not_found_code = "MODEL_NOT_FOUND"

    def post(self, request: Request, model_id: str) -> Response:
        raise NotFound(f"No model {model_id} here: only {MODEL_ID}.")


class ModelRunCollection(RunflowView):
    create_methods = ("POST",)

    def post(self, request: Request) -> Response:
        run_input = parse_create_body(request.data)
        tenant = tenant_of(request)
        run, created = run_create(
            tenant=tenant, run_input=run_input, idempotency_key=idempotency_key(request)
        )
        if created:
            run = as_inserted(with_public_status_as_inserted(run))
        else:
            run = runflow_runs(tenant=tenant).get(pk=run.pk)
        response = Response(_answer(request, [run])[0], status=status.HTTP_201_CREATED)
        if not created:
            response["Idempotent-Replayed"] = "true"
        return response


class RunCollection(RunflowView):
    def allowed_query_params(self, request: Request) -> Collection[str]:
        return ["q", *RunflowPagination.query_params]

    def get(self, request: Request) -> Response:
        runs = runs_matching(runflow_runs(tenant=tenant_of(request)), request.query_params.get("q"))
        paginator = RunflowPagination()
        page: list[Run] = paginator.paginate_queryset(runs, request, view=self) or []
        return Response(page_body(_answer(request, page), paginator))


class RunDetail(RunflowView):
    not_found_code = "RUN_NOT_FOUND"

    def get(self, request: Request, run_id: str) -> Response:
        run = runflow_runs(tenant=tenant_of(request)).get(pk=uuid_or_404(run_id))
        return Response(_answer(request, [run])[0])


class Health(RunflowView):
    """Runflow's ``GET /v1/health``: up, without a key (``/health/ready`` is ours)."""

    authentication_classes = []
    permission_classes = [AllowAny]

    def get(self, request: Request) -> Response:
        return Response({"status": "ok"})


def _secret_shown(secret: CallbackSecret, value: str | None = None) -> dict[str, Any]:
    shown = {
        "id": str(secret.id),
        "hint": secret.hint,
        "created_at": secret.created_at.isoformat(),
        "revoked_at": secret.revoked_at.isoformat() if secret.revoked_at else None,
    }
    if value is not None:
        shown["secret"] = value
    return shown


class CallbackSecretCollection(RunflowView):
    """Runflow's ``POST /v1/callback-secrets``: a new secret, shown once, signs from now on;
    the older ones keep verifying nothing new but stay listed until revoked."""

    def post(self, request: Request) -> Response:
        secret, value = callback_secret_create(tenant=tenant_of(request), actor=actor_of(request))
        return Response(_secret_shown(secret, value), status=status.HTTP_201_CREATED)

    def get(self, request: Request) -> Response:
        secrets = callback_secret_list(tenant=tenant_of(request))
        return Response({"items": [_secret_shown(secret) for secret in secrets]})


class CallbackSecretDetail(RunflowView):
    def delete(self, request: Request, secret_id: str) -> Response:
        secret = callback_secret_revoke(
            tenant=tenant_of(request), secret_id=uuid_or_404(secret_id), actor=actor_of(request)
        )
        return Response(_secret_shown(secret))
