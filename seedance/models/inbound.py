"""Signed webhooks received (Runflow callbacks, Stripe events) and those refused."""

from django.db import models


class InboundDelivery(models.Model):
    """Each signed webhook delivery we accepted, once per event: an audit and replay trail.

    A repeat of the same event bumps ``replays`` on this row instead of being applied again.
    """

    class Outcome(models.TextChoices):
        APPLIED = "applied"
        WOKE = "woke", "woke (Runflow's own answer is applied after)"
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
