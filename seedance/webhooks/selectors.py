"""Reads of a tenant's webhook endpoints and their delivery log, for the API and the portal.

Every read takes ``tenant=`` and scopes through it: another tenant's endpoint or delivery
raises ``DoesNotExist`` (a 404), the same as one that does not exist.
"""

from uuid import UUID

from django.db.models import Prefetch, QuerySet

from seedance.models import Tenant, WebhookAttempt, WebhookDelivery, WebhookEndpoint


def webhook_endpoint_list(*, tenant: Tenant) -> "QuerySet[WebhookEndpoint]":
    return WebhookEndpoint.objects.for_tenant(tenant)


def webhook_endpoint_get(*, tenant: Tenant, endpoint_id: UUID | str) -> WebhookEndpoint:
    return webhook_endpoint_list(tenant=tenant).get(pk=endpoint_id)


def webhook_delivery_list(*, endpoint: WebhookEndpoint) -> "QuerySet[WebhookDelivery]":
    """The endpoint's deliveries, newest first, each with its event and its attempts in
    the order they were sent (two queries however many attempts a page holds)."""
    return (
        WebhookDelivery.objects.filter(endpoint=endpoint)
        .select_related("event")
        .prefetch_related(
            Prefetch(
                "log", queryset=WebhookAttempt.objects.order_by("number"), to_attr="attempts_sent"
            )
        )
        .order_by("-id")
    )


def webhook_delivery_get(*, tenant: Tenant, delivery_id: int | str) -> WebhookDelivery:
    return (
        WebhookDelivery.objects.for_tenant(tenant)
        .select_related("event", "endpoint")
        .get(pk=delivery_id)
    )
