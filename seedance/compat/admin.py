"""Read-only admin of Runflow-style callbacks for support: each run's callback with where
it stands, and the tenants' callback secrets (their hints, never the secrets)."""

from django.contrib import admin

from seedance.inbound.admin import ReadOnlyAdmin
from seedance.models import CallbackDelivery, CallbackSecret


@admin.register(CallbackSecret)
class CallbackSecretAdmin(ReadOnlyAdmin[CallbackSecret]):
    list_display = ["hint", "tenant", "created_at", "revoked_at"]
    list_select_related = ["tenant"]
    search_fields = ["hint", "tenant__slug"]
    fields = readonly_fields = ("id", "tenant", "hint", "created_at", "revoked_at")


@admin.register(CallbackDelivery)
class CallbackDeliveryAdmin(ReadOnlyAdmin[CallbackDelivery]):
    list_display = [
        "run",
        "tenant",
        "url",
        "state",
        "attempts",
        "last_status",
        "next_attempt_at",
        "delivered_at",
    ]
    list_filter = ["state"]
    list_select_related = ["run", "tenant"]
    search_fields = ["run__id", "request_id", "url", "tenant__slug"]
    date_hierarchy = "created_at"
    fields = readonly_fields = (
        "run",
        "tenant",
        "url",
        "request_id",
        "state",
        "attempts",
        "next_attempt_at",
        "last_status",
        "last_error",
        "delivered_at",
        "created_at",
    )
