"""What the API shows of webhook endpoints and their delivery log, and the bodies it reads.

The input serializers document the bodies; the rules are ``seedance.api.webhook_input``'s
(the shape) and the endpoint services' (URL, event types, lengths).
"""

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from seedance.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from seedance.webhooks.endpoints import DESCRIPTION_MAX_CHARS, URL_MAX_CHARS
from seedance.webhooks.events import EVENT_TYPES

URL_HELP = (
    "Where events are POSTed: https on port 443, a host that resolves only to public "
    "addresses (checked now and at every attempt)."
)
EVENTS_HELP = "The event types sent here (see `GET /api/v1/webhooks/event-types`)."


def _event_types(**kwargs: Any) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.ChoiceField(choices=list(EVENT_TYPES)), help_text=EVENTS_HELP, **kwargs
    )


class WebhookEndpointCreateInputSerializer(serializers.Serializer[Any]):
    url = serializers.URLField(max_length=URL_MAX_CHARS, help_text=URL_HELP)
    events = _event_types(min_length=1)
    description = serializers.CharField(
        max_length=DESCRIPTION_MAX_CHARS, required=False, allow_blank=True, default=""
    )


class WebhookEndpointUpdateInputSerializer(serializers.Serializer[Any]):
    openapi_description = "Only the fields given change."

    url = serializers.URLField(max_length=URL_MAX_CHARS, required=False, help_text=URL_HELP)
    events = _event_types(min_length=1, required=False)
    description = serializers.CharField(
        max_length=DESCRIPTION_MAX_CHARS, required=False, allow_blank=True
    )
    enabled = serializers.BooleanField(
        required=False,
        help_text=(
            "false stops new events; true resumes, and the deliveries still pending go out "
            "in order."
        ),
    )


class WebhookEndpointSerializer(serializers.ModelSerializer[WebhookEndpoint]):
    openapi_description = "A webhook endpoint; its signing secret is shown only when made."

    events = serializers.SerializerMethodField()
    disabled_reason = serializers.CharField(
        help_text="Why the endpoint is disabled (by you, a 410, or days of failures)."
    )

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "url",
            "events",
            "description",
            "enabled",
            "disabled_reason",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(_event_types())
    def get_events(self, endpoint: WebhookEndpoint) -> list[str]:
        return list(endpoint.events)


class WebhookEndpointCreatedSerializer(WebhookEndpointSerializer):
    """The one answer carrying the secret: it is in ``context``, never on the endpoint."""

    openapi_description = (
        "The endpoint and its signing secret, shown this once: store it to verify deliveries."
    )

    secret = serializers.SerializerMethodField()

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]
        read_only_fields = fields

    @extend_schema_field(
        serializers.CharField(help_text="`whsec_...`: verify each delivery's signature with it.")
    )
    def get_secret(self, endpoint: WebhookEndpoint) -> str:
        return str(self.context["secret"])


class WebhookEndpointRotatedSerializer(WebhookEndpointCreatedSerializer):
    openapi_description = (
        "The endpoint and its new signing secret, shown this once. The previous secret "
        "still signs beside it until `previous_secret_expires_at`."
    )

    previous_secret_expires_at = serializers.DateTimeField(
        help_text="Until then the previous secret signs every delivery beside the new one."
    )

    class Meta(WebhookEndpointCreatedSerializer.Meta):
        fields = [*WebhookEndpointCreatedSerializer.Meta.fields, "previous_secret_expires_at"]
        read_only_fields = fields


class WebhookEndpointPageSerializer(serializers.Serializer[Any]):
    openapi_description = "One page of webhook endpoints, newest first."

    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = WebhookEndpointSerializer(many=True)


class WebhookAttemptSerializer(serializers.ModelSerializer[WebhookAttempt]):
    response_body = serializers.CharField(help_text="The start of your answer's body.")
    error = serializers.CharField(help_text="Why no answer counted: a timeout, a refused URL.")

    class Meta:
        model = WebhookAttempt
        fields = ["number", "sent_at", "status_code", "error", "latency_ms", "response_body"]
        read_only_fields = fields


class WebhookDeliverySerializer(serializers.ModelSerializer[WebhookDelivery]):
    openapi_description = "One event sent to the endpoint, with every attempt so far."

    event_id = serializers.CharField(
        source="event.id", help_text="The `webhook-id` header: the same on every attempt."
    )
    event_type = serializers.ChoiceField(source="event.type", choices=list(EVENT_TYPES))
    subject_id = serializers.CharField(
        source="event.subject_id", help_text="The run's id for run events; blank otherwise."
    )
    state = serializers.ChoiceField(choices=WebhookDelivery.State.values)
    attempts = serializers.IntegerField(help_text="Attempts made so far.")
    next_attempt_at = serializers.DateTimeField(
        allow_null=True, help_text="When a pending delivery is tried next."
    )
    log = WebhookAttemptSerializer(many=True, source="attempts_sent")

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event_id",
            "event_type",
            "subject_id",
            "state",
            "attempts",
            "next_attempt_at",
            "delivered_at",
            "last_status",
            "last_error",
            "created_at",
            "log",
        ]
        read_only_fields = fields


class WebhookDeliveryPageSerializer(serializers.Serializer[Any]):
    openapi_description = "One page of the endpoint's deliveries, newest first."

    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = WebhookDeliverySerializer(many=True)


class WebhookTestEventSerializer(serializers.Serializer[Any]):
    event_id = serializers.CharField(
        source="id", help_text="The test event's `webhook-id`; follow it in the delivery log."
    )
    event_type = serializers.ChoiceField(source="type", choices=list(EVENT_TYPES))


class EventTypeSerializer(serializers.Serializer[Any]):
    type = serializers.ChoiceField(choices=list(EVENT_TYPES))
    description = serializers.CharField()


class EventTypeListSerializer(serializers.Serializer[Any]):
    openapi_description = "Every event type an endpoint can subscribe to."

    results = EventTypeSerializer(many=True)
