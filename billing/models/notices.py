"""The cap notices sent: one row per period, cap and threshold, so each fires once."""

from django.db import models

from billing.models.fields import money
from seedance.models import Tenant
from seedance.tenancy import TenantQuerySet


class CapNotice(models.Model):
    """A ``usage.cap.warning`` (80) or ``usage.cap.reached`` (100) told to the tenant: its
    unique constraint, not a Python check, makes it once per period and cap under load."""

    class Kind(models.TextChoices):
        TENANT = "tenant", "Tenant cap"
        END_USER = "end_user", "End-user cap"

    class Threshold(models.IntegerChoices):
        WARNING = 80, "80% of the cap"
        REACHED = 100, "Cap reached"

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    period = models.DateField(help_text="First day of the UTC month the notice is about.")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    #: The end user whose cap it is; '' for the tenant's own cap.
    end_user_id = models.CharField(max_length=255, blank=True, default="")
    threshold = models.PositiveSmallIntegerField(choices=Threshold.choices)
    #: The cap and the period's spend (settled plus reserved) when it fired.
    cap = money()
    spend = money()
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "period", "kind", "end_user_id", "threshold"],
                name="cap_notice_once_per_period",
            )
        ]

    def __str__(self) -> str:
        who = self.end_user_id or "tenant"
        return f"{self.tenant_id}/{who} {self.threshold}% of {self.cap} in {self.period}"
