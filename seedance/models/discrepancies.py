"""What Runflow did that we did not bill: a person's to resolve, never fixed by code."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from seedance.models.runs import Run
from seedance.tenancy import TenantQuerySet


class RunDiscrepancy(models.Model):
    """Runflow reported a run succeeded after we had failed it ourselves (the hard limit or
    a refused lookup): Runflow charges us, the tenant is never billed, the run stays failed."""

    class Kind(models.TextChoices):
        PAID_NOT_BILLED = "paid_not_billed", "Paid, not billed"

    run = models.ForeignKey(Run, on_delete=models.PROTECT, related_name="discrepancies")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    provider_run_id = models.CharField(max_length=64, help_text="Runflow's run id.")
    provider_status = models.CharField(max_length=32, help_text="Runflow's status, as it said.")
    cost = models.DecimalField(
        max_digits=12, decimal_places=6, null=True, blank=True, help_text="Runflow's charge, USD."
    )
    completed_at = models.DateTimeField(null=True, blank=True, help_text="At Runflow.")
    detected_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    note = models.TextField(blank=True, default="", help_text="What was done about it.")

    objects = TenantQuerySet.as_manager()
    tenant_lookup = "run__tenant"

    class Meta:
        ordering = ["-detected_at", "-id"]
        verbose_name_plural = "run discrepancies"
        constraints = [
            models.UniqueConstraint(fields=["run", "kind"], name="discrepancy_once_per_kind")
        ]
        indexes = [
            models.Index(
                fields=["detected_at"],
                condition=Q(resolved_at__isnull=True),
                name="discrepancy_open",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: run {self.run_id}"
