"""REST API v1: one class per operation; each parses, calls one service or selector, answers."""

from collections.abc import Collection
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response

from seedance import selectors
from seedance.api.authentication import tenant_of
from seedance.api.base import ApiView
from seedance.api.filters import RunFilter
from seedance.api.serializers import RunCreateInputSerializer, RunPageSerializer, RunSerializer
from seedance.exceptions import InvalidRunInput
from seedance.models import Run
from seedance.run_input import parse_run_input
from seedance.services.runs import run_cancel, run_create

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
            raise _bad_cursor() from exc

    def decode_cursor(self, request: Request) -> Any:
        try:
            return super().decode_cursor(request)
        except NotFound as exc:
            raise _bad_cursor() from exc

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


def _bad_cursor() -> ValidationError:
    return ValidationError({"cursor": ["Invalid cursor: use a page's next or previous link."]})


class RunCollectionApi(ApiView):
    #: Counted against API_CREATE_RATE (seedance.api.throttling), not the read rate.
    create_methods = ("POST",)

    def allowed_query_params(self, request: Request) -> Collection[str]:
        if request.method == "POST":
            return ()
        return [*RunFilter.base_filters, *RunCursorPagination.query_params]

    @extend_schema(
        operation_id="runs_create",
        request=RunCreateInputSerializer,
        responses={201: RunSerializer},
        parameters=[
            OpenApiParameter(IDEMPOTENCY_HEADER, OpenApiTypes.STR, OpenApiParameter.HEADER)
        ],
    )
    def post(self, request: Request) -> Response:
        run_input = parse_run_input(request.data)
        tenant = tenant_of(request)
        run, created = run_create(
            tenant=tenant, run_input=run_input, idempotency_key=_idempotency_key(request)
        )
        run = selectors.run_get(tenant=tenant, run_id=run.pk)
        response = Response(
            RunSerializer(run, context={"request": request}).data, status=status.HTTP_201_CREATED
        )
        if not created:
            response["Idempotent-Replayed"] = "true"
        return response

    @extend_schema(
        operation_id="runs_list",
        parameters=[
            OpenApiParameter("status", OpenApiTypes.STR, many=True),
            OpenApiParameter("end_user_id", OpenApiTypes.STR),
            OpenApiParameter("created_after", OpenApiTypes.DATETIME),
            OpenApiParameter("created_before", OpenApiTypes.DATETIME),
            OpenApiParameter("limit", OpenApiTypes.INT),
            OpenApiParameter("cursor", OpenApiTypes.STR),
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
            RunSerializer(page, many=True, context={"request": request}).data
        )


class RunDetailApi(ApiView):
    @extend_schema(operation_id="runs_retrieve", responses={200: RunSerializer})
    def get(self, request: Request, run_id: str) -> Response:
        run = selectors.run_get(tenant=tenant_of(request), run_id=_uuid_or_404(run_id))
        return Response(RunSerializer(run, context={"request": request}).data)


class RunCancelApi(ApiView):
    @extend_schema(operation_id="runs_cancel", request=None, responses={200: RunSerializer})
    def post(self, request: Request, run_id: str) -> Response:
        tenant = tenant_of(request)
        run = run_cancel(tenant=tenant, run_id=_uuid_or_404(run_id))
        run = selectors.run_get(tenant=tenant, run_id=run.pk)
        return Response(RunSerializer(run, context={"request": request}).data)


def _idempotency_key(request: Request) -> str | None:
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is None:
        return None
    if not key.strip() or len(key) > IDEMPOTENCY_KEY_MAX_CHARS or not key.isprintable():
        raise InvalidRunInput(
            {IDEMPOTENCY_HEADER: [f"1 to {IDEMPOTENCY_KEY_MAX_CHARS} printable characters."]}
        )
    return key


def _uuid_or_404(value: Any) -> UUID:
    try:
        return UUID(str(value))
    except ValueError as exc:
        raise Run.DoesNotExist from exc
