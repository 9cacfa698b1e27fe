"""REST API v1 webhook endpoints: one class per operation; each parses, calls one service or
selector of ``seedance.webhooks``, answers."""

from collections.abc import Collection
from typing import Any
from uuid import UUID

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from seedance.api.authentication import actor_of, tenant_of
from seedance.api.base import ApiView
from seedance.api.schema import error_response
from seedance.api.views import RunCursorPagination
from seedance.api.webhook_input import (
    CREATE_FIELDS,
    CREATE_REQUIRED,
    UPDATE_FIELDS,
    endpoint_input,
)
from seedance.api.webhook_serializers import (
    EventTypeListSerializer,
    WebhookDeliveryPageSerializer,
    WebhookDeliverySerializer,
    WebhookEndpointCreatedSerializer,
    WebhookEndpointCreateInputSerializer,
    WebhookEndpointPageSerializer,
    WebhookEndpointRotatedSerializer,
    WebhookEndpointSerializer,
    WebhookEndpointUpdateInputSerializer,
    WebhookTestEventSerializer,
)
from seedance.models import WebhookDelivery, WebhookEndpoint
from seedance.webhooks.endpoints import (
    webhook_delivery_redeliver,
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_rotate_secret,
    webhook_endpoint_send_test,
    webhook_endpoint_update,
)
from seedance.webhooks.events import EVENT_TYPES
from seedance.webhooks.selectors import (
    webhook_delivery_get,
    webhook_delivery_list,
    webhook_endpoint_get,
    webhook_endpoint_list,
)

#: The largest id a delivery row can have (a signed 64-bit key on every database).
DELIVERY_ID_MAX = 2**63 - 1

ENDPOINT_ID = OpenApiParameter(
    "endpoint_id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The endpoint's id."
)
DELIVERY_ID = OpenApiParameter(
    "delivery_id",
    {"type": "integer", "minimum": 1, "maximum": DELIVERY_ID_MAX},
    OpenApiParameter.PATH,
    description="The delivery's id, from the delivery log.",
)
PAGE_PARAMETERS = [
    OpenApiParameter(
        "limit",
        {"type": "integer", "minimum": 1, "maximum": RunCursorPagination.max_page_size},
        description="Items per page (default 20).",
    ),
    OpenApiParameter(
        "cursor", OpenApiTypes.STR, description="From a page's `next` or `previous` link."
    ),
]
URL_REFUSED = (
    "Bad input; `fields` names each bad field. A `url` is refused unless it is https on "
    "port 443 and its host resolves only to public addresses."
)
ACTION_REFUSED = "`webhook_action_refused`: {}"


class WebhookEndpointCollectionApi(ApiView):
    #: Counted against API_CREATE_RATE: each create resolves a name chosen by the tenant.
    create_methods = ("POST",)

    def allowed_query_params(self, request: Request) -> Collection[str]:
        return () if request.method == "POST" else RunCursorPagination.query_params

    @extend_schema(
        operation_id="webhook_endpoints_create",
        summary="Create a webhook endpoint",
        description=(
            "Registers a URL to receive the listed event types, signed as Standard Webhooks "
            "describe. The answer carries the endpoint's signing `secret`, shown only this "
            "once: store it to verify each delivery."
        ),
        request=WebhookEndpointCreateInputSerializer,
        responses={201: WebhookEndpointCreatedSerializer, 400: error_response(URL_REFUSED)},
    )
    def post(self, request: Request) -> Response:
        values = endpoint_input(request.data, fields=CREATE_FIELDS, required=CREATE_REQUIRED)
        made = webhook_endpoint_create(tenant=tenant_of(request), actor=actor_of(request), **values)
        return Response(
            WebhookEndpointCreatedSerializer(made.endpoint, context={"secret": made.secret}).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        operation_id="webhook_endpoints_list",
        summary="List webhook endpoints",
        description=(
            "The tenant's webhook endpoints, newest first, a page at a time: follow `next` "
            "and `previous` as they are. Secrets are never shown here."
        ),
        parameters=PAGE_PARAMETERS,
        responses={200: WebhookEndpointPageSerializer},
    )
    def get(self, request: Request) -> Response:
        paginator = RunCursorPagination()
        page = paginator.paginate_queryset(
            webhook_endpoint_list(tenant=tenant_of(request)), request, view=self
        )
        return paginator.get_paginated_response(WebhookEndpointSerializer(page, many=True).data)


class WebhookEndpointDetailApi(ApiView):
    @extend_schema(
        operation_id="webhook_endpoints_retrieve",
        summary="Get a webhook endpoint",
        description="The endpoint's URL, event types and whether it is enabled (and why not).",
        parameters=[ENDPOINT_ID],
        responses={200: WebhookEndpointSerializer},
    )
    def get(self, request: Request, endpoint_id: str) -> Response:
        return Response(WebhookEndpointSerializer(_endpoint(request, endpoint_id)).data)

    @extend_schema(
        operation_id="webhook_endpoints_update",
        summary="Update a webhook endpoint",
        description=(
            "Changes the fields given: `url`, `events`, `description`, `enabled`. Disabling "
            "stops new events; enabling again sends the deliveries still pending, in order."
        ),
        parameters=[ENDPOINT_ID],
        request=WebhookEndpointUpdateInputSerializer,
        responses={200: WebhookEndpointSerializer, 400: error_response(URL_REFUSED)},
    )
    def patch(self, request: Request, endpoint_id: str) -> Response:
        endpoint = _endpoint(request, endpoint_id)
        endpoint = webhook_endpoint_update(
            endpoint,
            actor=actor_of(request),
            **endpoint_input(request.data, fields=UPDATE_FIELDS),
        )
        return Response(WebhookEndpointSerializer(endpoint).data)

    @extend_schema(
        operation_id="webhook_endpoints_destroy",
        summary="Delete a webhook endpoint",
        description="Deletes the endpoint with its deliveries and their log; nothing more is sent.",
        parameters=[ENDPOINT_ID],
        responses={204: OpenApiResponse(description="Deleted.")},
    )
    def delete(self, request: Request, endpoint_id: str) -> Response:
        webhook_endpoint_delete(_endpoint(request, endpoint_id), actor=actor_of(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookEndpointRotateSecretApi(ApiView):
    @extend_schema(
        operation_id="webhook_endpoints_rotate_secret",
        summary="Rotate a webhook endpoint's secret",
        description=(
            "Makes a new signing secret, shown only in this answer. Until "
            "`previous_secret_expires_at` every delivery is signed with both, so a receiver "
            "can switch to the new one at its own pace."
        ),
        parameters=[ENDPOINT_ID],
        request=None,
        responses={200: WebhookEndpointRotatedSerializer},
    )
    def post(self, request: Request, endpoint_id: str) -> Response:
        rotated = webhook_endpoint_rotate_secret(
            _endpoint(request, endpoint_id), actor=actor_of(request)
        )
        return Response(
            WebhookEndpointRotatedSerializer(
                rotated.endpoint, context={"secret": rotated.secret}
            ).data
        )


class WebhookEndpointTestApi(ApiView):
    #: Counted against API_CREATE_RATE: each test event is a request sent to the tenant's URL.
    create_methods = ("POST",)

    @extend_schema(
        operation_id="webhook_endpoints_send_test",
        summary="Send a test event",
        description=(
            "Queues a `webhook.test` event to this endpoint only, whatever it subscribes to; "
            "follow its delivery in the endpoint's delivery log."
        ),
        parameters=[ENDPOINT_ID],
        request=None,
        responses={
            202: WebhookTestEventSerializer,
            409: error_response(ACTION_REFUSED.format("the endpoint is disabled.")),
        },
    )
    def post(self, request: Request, endpoint_id: str) -> Response:
        event = webhook_endpoint_send_test(_endpoint(request, endpoint_id))
        return Response(WebhookTestEventSerializer(event).data, status=status.HTTP_202_ACCEPTED)


class WebhookDeliveryListApi(ApiView):
    query_params = RunCursorPagination.query_params

    @extend_schema(
        operation_id="webhook_deliveries_list",
        summary="List an endpoint's deliveries",
        description=(
            "The delivery log, newest first, a page at a time: each event sent to the "
            "endpoint, its state and every attempt with its status code, latency and the "
            "start of the answer's body."
        ),
        parameters=[ENDPOINT_ID, *PAGE_PARAMETERS],
        responses={200: WebhookDeliveryPageSerializer},
    )
    def get(self, request: Request, endpoint_id: str) -> Response:
        deliveries = webhook_delivery_list(endpoint=_endpoint(request, endpoint_id))
        paginator = RunCursorPagination()
        page = paginator.paginate_queryset(deliveries, request, view=self)
        return paginator.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)


class WebhookDeliveryRedeliverApi(ApiView):
    #: Counted against API_CREATE_RATE: each redelivery is a request sent to the tenant's URL.
    create_methods = ("POST",)

    @extend_schema(
        operation_id="webhook_deliveries_redeliver",
        summary="Redeliver an event",
        description=(
            "Sends a delivered or given-up delivery again, soon, with the same `webhook-id`: "
            "a receiver that deduplicates on it treats it as the message it already has."
        ),
        parameters=[DELIVERY_ID],
        request=None,
        responses={
            202: WebhookDeliverySerializer,
            409: error_response(
                ACTION_REFUSED.format("the delivery is still pending; it is sent anyway.")
            ),
        },
    )
    def post(self, request: Request, delivery_id: str) -> Response:
        delivery = webhook_delivery_get(
            tenant=tenant_of(request), delivery_id=_delivery_id_or_404(delivery_id)
        )
        delivery = webhook_delivery_redeliver(delivery)
        delivery = webhook_delivery_list(endpoint=delivery.endpoint).get(pk=delivery.pk)
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)


class EventTypeListApi(ApiView):
    @extend_schema(
        operation_id="webhook_event_types_list",
        summary="List webhook event types",
        description="Every event type an endpoint can subscribe to, with what it means.",
        responses={200: EventTypeListSerializer},
    )
    def get(self, request: Request) -> Response:
        types = [{"type": name, "description": text} for name, text in EVENT_TYPES.items()]
        return Response(EventTypeListSerializer({"results": types}).data)


def _endpoint(request: Request, endpoint_id: str) -> WebhookEndpoint:
    """The tenant's endpoint; a malformed id is as unknown as another tenant's."""
    try:
        parsed = UUID(str(endpoint_id))
    except ValueError as exc:
        raise WebhookEndpoint.DoesNotExist from exc
    return webhook_endpoint_get(tenant=tenant_of(request), endpoint_id=parsed)


def _delivery_id_or_404(value: Any) -> int:
    text = str(value)
    digits = text.isascii() and text.isdigit() and len(text) <= len(str(DELIVERY_ID_MAX))
    if not digits or not 1 <= int(text) <= DELIVERY_ID_MAX:
        raise WebhookDelivery.DoesNotExist
    return int(text)
