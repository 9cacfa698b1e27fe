"""Money a tenant sees before it spends: price estimates and the caps that remain."""

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from billing.models import TenantBilling
from billing.pricing import price_estimate
from billing.selectors import spend_status, tenant_billing
from seedance.api.authentication import tenant_of
from seedance.api.base import ApiView
from seedance.run_input import DURATIONS, RESOLUTIONS


def money(**options: Any) -> serializers.DecimalField:
    """USD as a string with the ledger's six places: never a float."""
    return serializers.DecimalField(
        max_digits=14, decimal_places=6, coerce_to_string=True, **options
    )


class EstimateQuerySerializer(serializers.Serializer[Any]):
    resolution = serializers.ChoiceField(choices=RESOLUTIONS, default="720p")
    duration = serializers.ChoiceField(choices=DURATIONS, default="auto")


class EstimateSerializer(serializers.Serializer[Any]):
    resolution = serializers.CharField()
    duration = serializers.CharField()
    currency = serializers.SerializerMethodField()
    unit_price = money()
    min_seconds = serializers.IntegerField()
    max_seconds = serializers.IntegerField()
    min_amount = money()
    max_amount = money()

    def get_currency(self, estimate: Any) -> str:
        return "usd"


class SpendSerializer(serializers.Serializer[Any]):
    spent = money()
    cap = money(allow_null=True)
    remaining = money(allow_null=True)


class LimitsSerializer(serializers.Serializer[Any]):
    month = SpendSerializer()
    end_user = SpendSerializer(allow_null=True)
    max_in_flight_runs = serializers.IntegerField(allow_null=True)
    subscription_status = serializers.CharField()


class PriceEstimateApi(ApiView):
    query_params = ("resolution", "duration")

    @extend_schema(
        operation_id="prices_estimate",
        summary="Estimate a run's price",
        description=(
            "What a run with these inputs bills, at this tenant's price; `auto` duration "
            "shows the 4 to 15 s range. USD amounts are strings with six decimals."
        ),
        parameters=[EstimateQuerySerializer],
        responses={200: EstimateSerializer},
    )
    def get(self, request: Request) -> Response:
        # A plain dict: DRF reads a blank form value as absent, so ``?resolution=`` passed.
        query = EstimateQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        estimate = price_estimate(tenant=tenant_of(request), **query.validated_data)
        return Response(EstimateSerializer(estimate).data)


class LimitsApi(ApiView):
    query_params = ("end_user_id",)

    @extend_schema(
        operation_id="limits_retrieve",
        summary="Get spend and caps",
        description=(
            "This UTC month's spend and what remains under the tenant's caps, and under an "
            "end user's with `end_user_id`."
        ),
        parameters=[
            OpenApiParameter(
                "end_user_id", OpenApiTypes.STR, description="Also show this end user's cap."
            )
        ],
        responses={200: LimitsSerializer},
    )
    def get(self, request: Request) -> Response:
        tenant = tenant_of(request)
        end_user_id = request.query_params.get("end_user_id")
        billing = tenant_billing(tenant=tenant)
        data = {
            "month": spend_status(tenant=tenant),
            "end_user": spend_status(tenant=tenant, end_user_id=end_user_id)
            if end_user_id
            else None,
            "max_in_flight_runs": billing.max_in_flight_runs if billing else None,
            "subscription_status": billing.subscription_status
            if billing
            else TenantBilling.SubscriptionStatus.NONE,
        }
        return Response(LimitsSerializer(data).data)
