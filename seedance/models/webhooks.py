"""Outbound webhooks to tenant apps: endpoints, the event outbox, deliveries and their log.

An event is recorded in the transaction of the change it reports, with one delivery per
endpoint subscribed to its type at that moment; each attempt's payload is built when it
is sent, so only the event's type, subject and schema version are stored (and small data
for events that have no row to read, such as usage caps).
"""

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone

from seedance.models.runs import Run
from seedance.models.tenants import Tenant
from seedance.tenancy import TenantQuerySet


def new_event_id() -> str:
    """The ``webhook-id``: stable across attempts, unique across deployments."""
    return f"msg_{uuid.uuid4().hex}"


class WebhookEndpoint(models.Model):
    """A tenant app's URL and the event types it asked for. The signing secret is stored
    only encrypted (``seedance.webhooks.encryption``) and shown once, when it is made."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.URLField(max_length=2000)
    events = models.JSONField(default=list, help_text="The event types delivered here.")
    description = models.CharField(max_length=500, blank=True, default="")
    enabled = models.BooleanField(default=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=500, blank=True, default="")
    secret_encrypted = models.TextField(editable=False)
    #: The secret before the last rotation: it signs beside the new one until it expires.
    previous_secret_encrypted = models.TextField(blank=True, default="", editable=False)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    #: When the current streak of failed attempts began; None after any success.
    failing_since = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["tenant", "enabled"], name="webhook_endpoint_tenant")]

    def __str__(self) -> str:
        return f"{self.url} ({'enabled' if self.enabled else 'disabled'})"


class WebhookEvent(models.Model):
    """The outbox: something happened that tenant apps may be told about."""

    id = models.CharField(primary_key=True, max_length=40, default=new_event_id, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    type = models.CharField(max_length=64)
    #: What the event is about: the run's id for run events.
    subject_id = models.CharField(max_length=64, blank=True, default="")
    run = models.ForeignKey(Run, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    schema_version = models.PositiveSmallIntegerField(default=1)
    #: The payload's data for events with no row to read it from (usage caps, tests).
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.type} {self.subject_id or self.id}"


class WebhookDelivery(models.Model):
    """One event to one endpoint, tried until delivered or given up."""

    class State(models.TextChoices):
        PENDING = "pending"
        DELIVERED = "delivered"
        FAILED = "failed", "Failed (given up)"

    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    #: The event's run, copied here: a run's deliveries to an endpoint go out in order.
    run = models.ForeignKey(Run, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    #: When a pending delivery is next due; an attempt moves it on as it starts (its lease).
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True, default="")
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantQuerySet.as_manager()
    tenant_lookup = "endpoint__tenant"

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["event", "endpoint"], name="webhook_delivery_once"),
            models.CheckConstraint(
                condition=Q(state__in=["pending", "delivered", "failed"]),
                name="webhook_delivery_state_valid",
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(state="pending"),
                name="webhook_delivery_due",
            ),
            models.Index(
                fields=["endpoint", "run", "id"],
                condition=Q(state="pending"),
                name="webhook_delivery_run_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} to {self.endpoint_id} ({self.state})"


class WebhookAttempt(models.Model):
    """The delivery log: one row per request sent (or refused before sending)."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="log")
    number = models.PositiveIntegerField()
    sent_at = models.DateTimeField(db_index=True)
    #: The ``webhook-timestamp`` header this attempt was signed with.
    webhook_timestamp = models.BigIntegerField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True, default="")
    latency_ms = models.PositiveIntegerField(default=0)
    response_body = models.TextField(blank=True, default="")

    objects = TenantQuerySet.as_manager()
    tenant_lookup = "delivery__endpoint__tenant"

    class Meta:
        ordering = ["delivery", "number"]

    def __str__(self) -> str:
        return f"attempt {self.number} of {self.delivery_id}: {self.status_code or self.error}"

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
