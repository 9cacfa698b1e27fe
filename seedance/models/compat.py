"""What the Runflow-compatible surface adds: tenants' callback secrets and the callback
each run with a ``callback_url`` owes its tenant (``seedance.compat``)."""

import uuid

from django.db import models
from django.db.models import Q

from seedance.models.runs import Run
from seedance.models.tenants import Tenant
from seedance.tenancy import TenantQuerySet


class CallbackSecret(models.Model):
    """A key the tenant's callbacks are signed with, as Runflow's ``/v1/callback-secrets``
    makes them; stored only encrypted and shown once. One is active at a time: a new one
    revokes the one before (``seedance.compat.callback_secrets``)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="callback_secrets")
    secret_encrypted = models.TextField(editable=False)
    #: The secret's first characters, to tell secrets apart without showing them.
    hint = models.CharField(max_length=16)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["tenant", "-created_at"],
                condition=Q(revoked_at__isnull=True),
                name="callback_secret_active",
            )
        ]

    def __str__(self) -> str:
        return f"callback secret {self.hint}… ({'revoked' if self.revoked_at else 'active'})"


class CallbackDelivery(models.Model):
    """The one callback a run owes its ``callback_url``, tried until delivered or given up.

    One per run (the unique run): the final state is reported once, however many
    signals reach it."""

    class State(models.TextChoices):
        PENDING = "pending"
        DELIVERED = "delivered"
        FAILED = "failed", "Failed (given up)"

    run = models.OneToOneField(Run, on_delete=models.CASCADE, related_name="+")
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    url = models.URLField(max_length=2000)
    #: ``Runflow-Request-Id``: the same on every attempt, so a receiver can drop repeats.
    request_id = models.CharField(max_length=64, default="", editable=False)
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    #: When a pending callback is next due; an attempt moves it on as it starts (its lease).
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True, default="")
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"], condition=Q(state="pending"), name="callback_due"
            )
        ]

    def __str__(self) -> str:
        return f"callback for {self.run_id} ({self.state})"
