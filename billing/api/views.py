"""Usage API: parse the query, call the ledger selector, answer in JSON or CSV."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from billing.api.renderers import UsageCsvRenderer
from billing.api.serializers import UsageQuerySerializer, UsageSerializer
from billing.selectors import usage_summary
from seedance.api.authentication import tenant_of
from seedance.api.base import ApiView


class UsageApi(ApiView):
    renderer_classes = [JSONRenderer, UsageCsvRenderer]
    query_params = ("from", "to", "group_by", "end_user_id")

    @extend_schema(
        operation_id="usage_retrieve",
        summary="Get usage",
        description=(
            "Billed seconds, amount and runs from the ledger between `from` and `to` "
            "(at most 366 days), grouped by day, resolution or end user; `format=csv` "
            "answers a CSV file."
        ),
        parameters=[
            UsageQuerySerializer,
            OpenApiParameter(
                "format", OpenApiTypes.STR, enum=["json", "csv"], description="Default `json`."
            ),
        ],
        responses={
            (200, "application/json"): UsageSerializer,
            (200, "text/csv"): OpenApiTypes.STR,
        },
    )
    def get(self, request: Request) -> Response:
        # A plain dict: DRF reads a blank form value as absent, so ``?group_by=`` passed.
        query = UsageQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        summary = usage_summary(tenant=tenant_of(request), **query.validated_data)
        return Response(UsageSerializer(summary).data)

    def handle_exception(self, exc: Exception) -> Response:
        """Errors keep the API's JSON error shape, even when CSV was asked for."""
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        return super().handle_exception(exc)
