"""REST API v1: one class per operation; each parses, calls one service or selector, answers."""

from base64 import b64decode
from collections.abc import Collection
from typing import Any
from urllib.parse import parse_qs
from uuid import UUID

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response

from seedance import selectors
from seedance.api.authentication import tenant_of
from seedance.api.base import ApiView
from seedance.api.filters import RunFilter
from seedance.api.schema import error_response
from seedance.api.serializers import (
    NOT_BLANK_PATTERN,
    RunCreateInputSerializer,
    RunPageSerializer,
    RunSerializer,
    run_context,
)
from seedance.exceptions import InvalidRunInput
from seedance.models import Run
from seedance.public_status import with_public_status_as_inserted
from seedance.run_input import parse_run_input
from seedance.services.runs import run_cancel, run_create
from seedance.states import RunStatus

IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_KEY_MAX_CHARS = 255


class RunCursorPagination(CursorPagination):
    """A bad ``cursor`` or a ``limit`` outside 1..100 is a field-level 400, not a guess."""

    page_size = 20
    page_size_query_param = "limit"
    max_page_size = 100
    ordering = ("-created_at", "-id")
    query_params = ("cursor", "limit")

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> Any:
        """A forged cursor decodes, then fails as a filter value: still a bad cursor."""
        try:
            return super().paginate_queryset(queryset, request, view)
        except DjangoValidationError as exc:
            raise self.bad_cursor() from exc

    def decode_cursor(self, request: Request) -> Any:
        """DRF's decoding skips what is not base64, so ``%%%`` read as the first page."""
        encoded = request.query_params.get(self.cursor_query_param)
        if encoded is not None and not _is_our_cursor(encoded):
            raise self.bad_cursor()
        try:
            return super().decode_cursor(request)
        except NotFound as exc:
            raise self.bad_cursor() from exc

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get("limit")
        if raw is None:
            return self.page_size
        try:
            limit = int(raw)
        except ValueError:
            limit = 0
        if not 1 <= limit <= self.max_page_size:
            raise ValidationError({"limit": [f"An integer from 1 to {self.max_page_size}."]})
        return limit

    def bad_cursor(self) -> ValidationError:
        return ValidationError(
            {self.cursor_query_param: ["Invalid cursor: use a page's next or previous link."]}
        )


#: What DRF's encode_cursor writes: offset, reverse, position.
CURSOR_TOKENS = frozenset({"o", "r", "p"})


def _is_our_cursor(encoded: str) -> bool:
    try:
        querystring = b64decode(encoded.encode("ascii"), validate=True).decode("ascii")
        tokens = parse_qs(querystring, keep_blank_values=True, strict_parsing=True)
    except (UnicodeError, ValueError):
        return False
    return bool(tokens) and set(tokens) <= CURSOR_TOKENS


class RunCollectionApi(ApiView):
    #: Counted against API_CREATE_RATE (seedance.api.throttling), not the read rate.
    create_methods = ("POST",)

    def allowed_query_params(self, request: Request) -> Collection[str]:
        if request.method == "POST":
            return ()
        return [*RunFilter.base_filters, *RunCursorPagination.query_params]

    @extend_schema(
        operation_id="runs_create",
        summary="Create a run",
        description=(
            "Queues a text-to-video run. The answer is the run, `queued`; follow it with "
            "`GET /api/v1/runs/{id}`. A repeat with the same `Idempotency-Key` (kept 24 h) "
            "answers the first run, with `Idempotent-Replayed: true`."
        ),
        request=RunCreateInputSerializer,
        responses={
            201: OpenApiResponse(RunSerializer, description="The run, created or replayed."),
            402: error_response(
                "Over a monthly spend cap (`tenant_monthly_spend_cap`, "
                "`end_user_monthly_spend_cap`), a card is needed "
                "(`payment_method_required`), or the subscription is past due."
            ),
            409: error_response(
                "A request with this `Idempotency-Key` is still being handled; retry shortly."
            ),
            422: error_response("This `Idempotency-Key` was used with another body."),
            429: error_response(
                "Too many requests (`rate_limited`, `authentication_rate_limited`) or runs in "
                "flight (`tenant_concurrency_cap`). Retry after `Retry-After` seconds."
            ),
        },
        parameters=[
            OpenApiParameter(
                IDEMPOTENCY_HEADER,
                {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": IDEMPOTENCY_KEY_MAX_CHARS,
                    "pattern": NOT_BLANK_PATTERN,
                },
                OpenApiParameter.HEADER,
                description=(
                    f"1 to {IDEMPOTENCY_KEY_MAX_CHARS} printable characters, unique per "
                    "create you mean; a retry sends the same one."
                ),
            ),
            OpenApiParameter(
                "Idempotent-Replayed",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                enum=["true"],
                response=[201],
                description="Set when the answer is an earlier create's run.",
            ),
        ],
    )
    def post(self, request: Request) -> Response:
        run_input = parse_run_input(request.data)
        tenant = tenant_of(request)
        run, created = run_create(
            tenant=tenant, run_input=run_input, idempotency_key=idempotency_key(request)
        )
        # A run just made is answered as inserted; a replay is read as any run is.
        run = (
            with_public_status_as_inserted(run)
            if created
            else selectors.run_get(tenant=tenant, run_id=run.pk)
        )
        response = Response(
            RunSerializer(run, context=run_context(request, run)).data,
            status=status.HTTP_201_CREATED,
        )
        if not created:
            response["Idempotent-Replayed"] = "true"
        return response

    @extend_schema(
        operation_id="runs_list",
        summary="List runs",
        description=(
            "The tenant's runs, newest first, a page at a time: follow `next` and "
            "`previous` as they are."
        ),
        parameters=[
            OpenApiParameter(
                "status",
                OpenApiTypes.STR,
                many=True,
                enum=RunStatus.values,
                description="Only runs in these statuses.",
            ),
            OpenApiParameter("end_user_id", OpenApiTypes.STR, description="Only this end user's."),
            OpenApiParameter(
                "created_after", OpenApiTypes.DATETIME, description="Created at or after."
            ),
            OpenApiParameter(
                "created_before", OpenApiTypes.DATETIME, description="Created before."
            ),
            OpenApiParameter(
                "limit",
                {"type": "integer", "minimum": 1, "maximum": RunCursorPagination.max_page_size},
                description="Runs per page (default 20).",
            ),
            OpenApiParameter(
                "cursor", OpenApiTypes.STR, description="From a page's `next` or `previous` link."
            ),
        ],
        responses={200: RunPageSerializer},
    )
    def get(self, request: Request) -> Response:
        runs = RunFilter(
            request.query_params, queryset=selectors.run_list(tenant=tenant_of(request))
        )
        if not runs.is_valid():
            raise ValidationError(runs.errors)
        paginator = RunCursorPagination()
        page: list[Run] | None = paginator.paginate_queryset(runs.qs, request, view=self)
        return paginator.get_paginated_response(
            RunSerializer(page, many=True, context=run_context(request, page or [])).data
        )


class RunDetailApi(ApiView):
    @extend_schema(
        operation_id="runs_retrieve",
        summary="Get a run",
        description=(
            "The run's status and, once `succeeded`, its outputs behind signed links; "
            "`failure` says why a run failed."
        ),
        responses={200: RunSerializer},
    )
    def get(self, request: Request, run_id: str) -> Response:
        run = selectors.run_get(tenant=tenant_of(request), run_id=uuid_or_404(run_id))
        return Response(RunSerializer(run, context=run_context(request, run)).data)


class RunCancelApi(ApiView):
    @extend_schema(
        operation_id="runs_cancel",
        summary="Cancel a run",
        description=(
            "Cancels a run not yet sent for generation; it is never billed. A canceled run "
            "answers as it is."
        ),
        request=None,
        responses={
            200: RunSerializer,
            409: error_response(
                "The run already finished, or is in generation (`run_not_cancelable`): "
                "it finishes and is billed only if it succeeds."
            ),
        },
    )
    def post(self, request: Request, run_id: str) -> Response:
        tenant = tenant_of(request)
        run = run_cancel(tenant=tenant, run_id=uuid_or_404(run_id))
        run = selectors.run_get(tenant=tenant, run_id=run.pk)
        return Response(RunSerializer(run, context=run_context(request, run)).data)


def idempotency_key(request: Request) -> str | None:
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is None:
        return None
    if not key.strip() or len(key) > IDEMPOTENCY_KEY_MAX_CHARS or not key.isprintable():
        raise InvalidRunInput(
            {IDEMPOTENCY_HEADER: [f"1 to {IDEMPOTENCY_KEY_MAX_CHARS} printable characters."]}
        )
    return key


def uuid_or_404(value: Any) -> UUID:
    try:
        return UUID(str(value))
    except ValueError as exc:
        raise Run.DoesNotExist from exc
