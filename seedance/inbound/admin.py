"""Read-only admin lists of inbound deliveries and of refused ones, for support and forensics."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from seedance.models import InboundDelivery, RejectedDelivery, RejectedDeliveryCount


class ReadOnlyAdmin[ModelT: Any](admin.ModelAdmin[ModelT]):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(InboundDelivery)
class InboundDeliveryAdmin(ReadOnlyAdmin[InboundDelivery]):
    list_display = [
        "source",
        "event_type",
        "subject",
        "outcome",
        "replays",
        "first_received_at",
        "last_received_at",
    ]
    list_filter = ["source", "outcome"]
    search_fields = ["dedupe_key", "subject", "object_id", "request_id"]
    date_hierarchy = "first_received_at"


@admin.register(RejectedDeliveryCount)
class RejectedDeliveryCountAdmin(ReadOnlyAdmin[RejectedDeliveryCount]):
    list_display = ["source", "hour", "count"]
    list_filter = ["source"]
    date_hierarchy = "hour"


@admin.register(RejectedDelivery)
class RejectedDeliveryAdmin(ReadOnlyAdmin[RejectedDelivery]):
    list_display = ["source", "reason", "received_at", "body_bytes"]
    list_filter = ["source", "reason"]
    date_hierarchy = "received_at"
