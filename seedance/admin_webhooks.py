"""Read-only admin of tenant webhooks for support: endpoints (never their secrets) and
deliveries with the log of their attempts."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from seedance.inbound.admin import ReadOnlyAdmin
from seedance.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ReadOnlyAdmin[WebhookEndpoint]):
    list_display = ["url", "tenant", "enabled", "failing_since", "disabled_at", "created_at"]
    list_filter = ["enabled"]
    search_fields = ["url", "tenant__slug", "description"]
    fields = readonly_fields = (
        "id",
        "tenant",
        "url",
        "events",
        "description",
        "enabled",
        "disabled_at",
        "disabled_reason",
        "failing_since",
        "previous_secret_expires_at",
        "created_at",
        "updated_at",
    )


class WebhookAttemptInline(admin.TabularInline[WebhookAttempt, WebhookDelivery]):
    model = WebhookAttempt
    extra = 0
    can_delete = False
    fields = readonly_fields = (
        "number",
        "sent_at",
        "status_code",
        "error",
        "latency_ms",
        "response_body",
    )

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin[WebhookDelivery]):
    list_display = [
        "event_id",
        "event_type",
        "endpoint",
        "state",
        "attempts",
        "last_status",
        "next_attempt_at",
        "delivered_at",
    ]
    list_filter = ["state"]
    search_fields = ["event__id", "event__subject_id", "endpoint__url", "endpoint__tenant__slug"]
    list_select_related = ["event", "endpoint"]
    fields = readonly_fields = (
        "event",
        "endpoint",
        "run",
        "state",
        "attempts",
        "next_attempt_at",
        "last_status",
        "last_error",
        "delivered_at",
        "created_at",
    )
    inlines = [WebhookAttemptInline]

    @admin.display(description="type", ordering="event__type")
    def event_type(self, delivery: WebhookDelivery) -> str:
        return delivery.event.type
