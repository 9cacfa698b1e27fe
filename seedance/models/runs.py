"""Runs, the files we copied from them, their moderation and their idempotency keys."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from seedance.models.tenants import Tenant
from seedance.states import Attention, Delivery, RunStatus
from seedance.tenancy import TenantQuerySet


class Run(models.Model):
    """One text-to-video generation: our record of a Runflow run and its result."""

    class AspectRatio(models.TextChoices):
        AUTO = "auto"
        R21_9 = "21:9"
        R16_9 = "16:9"
        R4_3 = "4:3"
        R1_1 = "1:1"
        R3_4 = "3:4"
        R9_16 = "9:16"

    class Resolution(models.TextChoices):
        P480 = "480p", "480p"
        P720 = "720p", "720p"

    class Moderation(models.TextChoices):
        NONE = "none", "Not needed"
        PENDING = "pending", "Pending review"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="runs")
    end_user_id = models.CharField(max_length=255, blank=True, default="")
    #: The person who made the run in the portal (API runs have none).
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    prompt = models.TextField()
    aspect_ratio = models.CharField(
        max_length=8, choices=AspectRatio.choices, default=AspectRatio.AUTO
    )
    duration = models.CharField(max_length=4, default="auto", help_text='"auto" or "4".."15"')
    resolution = models.CharField(max_length=8, choices=Resolution.choices, default="720p")
    generate_audio = models.BooleanField(default=True)
    seed = models.BigIntegerField(null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    #: The tenant app's own reference (Runflow's ``client_ref``): stored and filterable,
    #: never deduplicating; ``Idempotency-Key`` is what makes a retry safe.
    client_ref = models.CharField(max_length=255, blank=True, default="")
    #: Where a Runflow-style callback goes once the run is final (``seedance.compat``).
    callback_url = models.URLField(max_length=2000, blank=True, default="")

    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.QUEUED)
    provider_run_id = models.CharField(max_length=64, null=True, blank=True, unique=True)
    outputs = models.JSONField(default=list, blank=True)
    result_seed = models.BigIntegerField(null=True, blank=True)
    nsfw_detected = models.BooleanField(null=True, blank=True)
    timing = models.JSONField(null=True, blank=True)
    duration_ms = models.PositiveBigIntegerField(null=True, blank=True)
    cost = models.DecimalField(
        max_digits=12, decimal_places=6, null=True, blank=True, help_text="Runflow's charge, USD."
    )
    failure_code = models.CharField(max_length=64, blank=True, default="")
    failure_message = models.TextField(blank=True, default="")
    moderation = models.CharField(
        max_length=16, choices=Moderation.choices, default=Moderation.NONE
    )
    delivery = models.CharField(max_length=16, choices=Delivery.choices, default=Delivery.PENDING)
    delivered_at = models.DateTimeField(null=True, blank=True)
    delivery_attempts = models.PositiveSmallIntegerField(default=0)
    #: When the next copy attempt may start; an attempt books it as it begins.
    next_delivery_at = models.DateTimeField(null=True, blank=True)
    delivery_error = models.TextField(blank=True, default="", help_text="Why the copy gave up.")

    created_at = models.DateTimeField(auto_now_add=True)
    deadline_at = models.DateTimeField()
    #: Set when a submit task claims the run; a claimed run is no longer cancelable.
    claimed_at = models.DateTimeField(null=True, blank=True)
    submit_attempts = models.PositiveIntegerField(default=0)
    #: When the last create attempt under the current claim was sent: its outcome is known
    #: once that attempt's budget (``seedance.conf.create_outcome_window_seconds``) is over.
    create_sent_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    recheck_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="A terminal callback came but Runflow's GET still said in progress: "
        "ask Runflow again from then on.",
    )
    attention = models.CharField(
        max_length=16, choices=Attention.choices, default=Attention.NONE, blank=True
    )
    attention_since = models.DateTimeField(null=True, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "-created_at", "-id"], name="run_tenant_created"),
            models.Index(fields=["tenant", "end_user_id", "-created_at"], name="run_tenant_user"),
            models.Index(fields=["tenant", "created_by", "-created_at"], name="run_tenant_creator"),
            models.Index(
                fields=["tenant", "client_ref"], condition=~Q(client_ref=""), name="run_client_ref"
            ),
            models.Index(fields=["created_at"], condition=Q(moderation="pending"), name="run_held"),
            models.Index(
                fields=["next_delivery_at"],
                condition=Q(status=RunStatus.SUCCEEDED, delivery=Delivery.PENDING),
                name="run_awaiting_delivery",
            ),
            models.Index(
                fields=["recheck_at"],
                condition=Q(recheck_at__isnull=False),
                name="run_recheck_due",
            ),
            models.Index(
                fields=["attention_since"],
                condition=~Q(attention=Attention.NONE),
                name="run_needs_attention",
            ),
            models.Index(
                fields=["status", "created_at"],
                condition=Q(status__in=RunStatus.in_progress()),
                name="run_in_progress",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=RunStatus.values), name="run_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(completed_at__isnull=True) | Q(status__in=RunStatus.terminal()),
                name="run_completed_only_when_terminal",
            ),
        ]

    def __str__(self) -> str:
        return f"run {self.id} ({self.status})"

    @property
    def is_terminal(self) -> bool:
        return self.status in RunStatus.terminal()

    @property
    def input(self) -> dict[str, object]:
        """The model's input, as Runflow takes it."""
        data: dict[str, object] = {
            "prompt": self.prompt,
            "aspect_ratio": self.aspect_ratio,
            "duration": self.duration,
            "resolution": self.resolution,
            "generate_audio": self.generate_audio,
        }
        if self.seed is not None:
            data["seed"] = self.seed
        if self.end_user_id:
            data["end_user_id"] = self.end_user_id
        return data


class OutputFile(models.Model):
    """Our own copy of one output: Runflow's URLs are not ours to keep or to hand out."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="files")
    index = models.PositiveSmallIntegerField()
    file = models.FileField(upload_to="outputs/%Y/%m/%d/", blank=True, max_length=255)
    #: A still frame from our copy (seedance.posters); empty when extraction failed.
    poster = models.FileField(upload_to="posters/%Y/%m/%d/", blank=True, max_length=255)
    content_type = models.CharField(max_length=100, default="video/mp4")
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    duration = models.FloatField(null=True, blank=True)
    size = models.PositiveBigIntegerField(null=True, blank=True)
    copied_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    #: Set when the file is removed from storage (rejected, expired or deleted by its
    #: owner); never served again.
    deleted_at = models.DateTimeField(null=True, blank=True)

    objects = TenantQuerySet.as_manager()
    tenant_lookup = "run__tenant"

    class Meta:
        ordering = ["run", "index"]
        constraints = [
            models.UniqueConstraint(fields=["run", "index"], name="output_file_unique_index")
        ]

    def __str__(self) -> str:
        return f"output {self.index} of {self.run_id}"


class ModerationDecision(models.Model):
    """The audit trail: who approved or rejected a held run, when, and why."""

    class Decision(models.TextChoices):
        APPROVED = "approved"
        REJECTED = "rejected"

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="moderation_decisions")
    decision = models.CharField(max_length=16, choices=Decision.choices)
    reason = models.TextField(blank=True, default="")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-decided_at"]

    def __str__(self) -> str:
        return f"{self.decision} by {self.decided_by} at {self.decided_at:%Y-%m-%d %H:%M}"


class IdempotencyKey(models.Model):
    """A tenant's Idempotency-Key, stored in the same transaction as the run it made."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    request_digest = models.CharField(max_length=64)
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "key"], name="idempotency_unique_key")
        ]

    def __str__(self) -> str:
        return f"{self.key} → {self.run_id}"
