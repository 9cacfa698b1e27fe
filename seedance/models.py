"""Tenants, their people and keys, and the runs they make."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from seedance.run_input import PORTAL_END_USER_PREFIX
from seedance.states import Delivery, RunStatus
from seedance.tenancy import TenantQuerySet


class Tenant(models.Model):
    #: Unique across every deployment (pks are not): what Stripe objects are tied to.
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    slug = models.SlugField(max_length=63, unique=True)
    name = models.CharField(max_length=200)
    output_retention_days = models.PositiveIntegerField(
        null=True, blank=True, help_text="Days our copy of each video is kept; empty: forever."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    #: Set by staff (seedance.services.suspension): keys answer 403, the portal and the
    #: output links stop, runs not yet sent are canceled. Staff's reason is in the audit log.
    suspended_at = models.DateTimeField(null=True, blank=True, editable=False)
    suspension_notice = models.TextField(
        blank=True,
        default="",
        editable=False,
        help_text="Shown to the tenant's members while suspended; staff's reason is not.",
    )

    def __str__(self) -> str:
        return self.slug

    @property
    def is_suspended(self) -> bool:
        return self.suspended_at is not None


class Membership(models.Model):
    class Role(models.TextChoices):
        MEMBER = "member", "Member"
        ADMIN = "admin", "Tenant admin"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "tenant"], name="membership_unique_user_tenant")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.tenant} ({self.role})"


class Person(models.Model):
    """A portal user's stable public id: their runs carry ``portal:<id>`` as end_user_id,
    so a tenant app's end user named "42" is never confused with a person."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="person"
    )
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)

    def __str__(self) -> str:
        return f"{self.user} ({self.public_id})"

    @property
    def end_user_id(self) -> str:
        return f"{PORTAL_END_USER_PREFIX}{self.public_id}"


class ApiKey(models.Model):
    """A tenant app's credential. Only the SHA-256 digest of the key is stored."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=32, help_text="The visible start of the key.")
    digest = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = TenantQuerySet.as_manager()

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


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
    submitted_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "-created_at", "-id"], name="run_tenant_created"),
            models.Index(fields=["tenant", "end_user_id", "-created_at"], name="run_tenant_user"),
            models.Index(fields=["tenant", "created_by", "-created_at"], name="run_tenant_creator"),
            models.Index(fields=["created_at"], condition=Q(moderation="pending"), name="run_held"),
            models.Index(
                fields=["next_delivery_at"],
                condition=Q(status=RunStatus.SUCCEEDED, delivery=Delivery.PENDING),
                name="run_awaiting_delivery",
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
    content_type = models.CharField(max_length=100, default="video/mp4")
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    duration = models.FloatField(null=True, blank=True)
    size = models.PositiveBigIntegerField(null=True, blank=True)
    copied_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    #: Set when the file is removed from storage (rejected or expired); never served again.
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


class InboundDelivery(models.Model):
    """Each signed webhook delivery we accepted, once per event: an audit and replay trail.

    A repeat of the same event bumps ``replays`` on this row instead of being applied again.
    """

    class Outcome(models.TextChoices):
        APPLIED = "applied"
        DUPLICATE = "duplicate", "duplicate (changed nothing)"
        MISMATCH = "mismatch", "mismatch (addressed to another object)"
        IGNORED = "ignored"
        PROCESSED = "processed", "processed (recorded before outcomes were kept)"

    source = models.CharField(max_length=32)
    dedupe_key = models.CharField(
        max_length=255, help_text="The sender's event id, or what identifies a delivery."
    )
    event_type = models.CharField(max_length=100, blank=True, default="")
    subject = models.CharField(
        max_length=64, blank=True, default="", help_text="Our object it was addressed to."
    )
    object_id = models.CharField(
        max_length=255, blank=True, default="", help_text="The sender's id of its object."
    )
    request_id = models.CharField(max_length=128, blank=True, default="")
    outcome = models.CharField(
        max_length=16, choices=Outcome.choices, blank=True, default="", help_text="Empty: applying."
    )
    replays = models.PositiveIntegerField(default=0)
    first_received_at = models.DateTimeField()
    last_received_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "dedupe_key"], name="inbound_delivery_once")
        ]
        indexes = [
            models.Index(fields=["source", "subject"], name="inbound_delivery_subject"),
            models.Index(fields=["first_received_at"], name="inbound_delivery_received"),
        ]
        verbose_name_plural = "inbound deliveries"

    def __str__(self) -> str:
        return f"{self.source} {self.event_type or self.dedupe_key} ({self.outcome})"


class RejectedDeliveryCount(models.Model):
    """How many deliveries a source had refused in one UTC hour (bad signature, bad body)."""

    source = models.CharField(max_length=32)
    hour = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "hour"], name="rejected_count_per_hour")
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.hour:%Y-%m-%d %H}:00 UTC: {self.count} rejected"


class RejectedDelivery(models.Model):
    """A refused delivery kept for forensics: the first few per source and hour, body truncated."""

    source = models.CharField(max_length=32)
    received_at = models.DateTimeField()
    reason = models.CharField(max_length=64)
    message = models.CharField(max_length=255, blank=True, default="")
    body = models.TextField(blank=True, default="")
    body_bytes = models.PositiveIntegerField(help_text="The full body's size.")

    class Meta:
        indexes = [models.Index(fields=["source", "received_at"], name="rejected_source_received")]
        verbose_name_plural = "rejected deliveries"

    def __str__(self) -> str:
        return f"{self.source} {self.reason} at {self.received_at:%Y-%m-%d %H:%M:%S}"


class AuditEntry(models.Model):
    """Who did what to a tenant's keys, members, caps or standing, when and why.

    Written by ``seedance.audit.audit_record`` in the change's own transaction, so an entry
    exists exactly when its change committed. Never edited; labels outlive the rows named.
    """

    class ActorRole(models.TextChoices):
        STAFF = "staff", "Platform staff"
        TENANT_ADMIN = "tenant_admin", "Tenant admin"
        SYSTEM = "system", "System"

    class Action(models.TextChoices):
        KEY_ISSUED = "key.issued", "API key issued"
        KEY_REVOKED = "key.revoked", "API key revoked"
        KEYS_REVOKED_ALL = "keys.revoked_all", "Every API key revoked"
        MEMBER_ROLE_CHANGED = "member.role_changed", "Member's role changed"
        MEMBER_REMOVED = "member.removed", "Member removed"
        INVITATION_SENT = "invitation.sent", "Invitation sent"
        INVITATION_REVOKED = "invitation.revoked", "Invitation revoked"
        INVITATION_ACCEPTED = "invitation.accepted", "Invitation accepted"
        CAP_CHANGED = "cap.changed", "Spend or concurrency caps changed"
        END_USER_LIMIT_SET = "end_user_limit.set", "End-user cap set"
        END_USER_LIMIT_REMOVED = "end_user_limit.removed", "End-user cap removed"
        TENANT_SUSPENDED = "tenant.suspended", "Tenant suspended"
        TENANT_RESUMED = "tenant.resumed", "Tenant resumed"
        TENANT_SETTINGS_CHANGED = "tenant.settings_changed", "Tenant settings changed"

    created_at = models.DateTimeField(default=timezone.now, editable=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_label = models.CharField(max_length=255, help_text="Who, as they were named then.")
    actor_role = models.CharField(max_length=16, choices=ActorRole.choices)
    tenant = models.ForeignKey(
        Tenant, on_delete=models.SET_NULL, null=True, blank=True, related_name="audit_entries"
    )
    tenant_label = models.CharField(max_length=63, blank=True, default="")
    action = models.CharField(max_length=32, choices=Action.choices)
    target = models.CharField(max_length=255, blank=True, default="")
    reason = models.TextField(blank=True, default="")
    details = models.JSONField(default=dict, blank=True, help_text="Values before and after.")

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "audit entries"
        indexes = [
            models.Index(fields=["tenant", "-created_at"], name="audit_tenant_created"),
            models.Index(fields=["action", "-created_at"], name="audit_action_created"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(actor_role="staff") | ~Q(reason=""), name="audit_staff_reason"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.action} by {self.actor_label} at {self.created_at:%Y-%m-%d %H:%M}"
