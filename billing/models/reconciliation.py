"""Where Stripe and the ledger disagree, and the meter errors Stripe reported."""

from django.db import models
from django.db.models import Q

from billing.models.prices import MeteredPrice
from seedance.models import Tenant
from seedance.tenancy import TenantQuerySet


class BillingDifference(models.Model):
    """Where Stripe's own numbers (meter event summaries, invoice lines) differ from the
    ledger for a settled window: what we found, and what a person should do about it."""

    class Kind(models.TextChoices):
        METER = "meter", "Meter event summary"
        INVOICE_LINE = "invoice_line", "Invoice line"

    class State(models.TextChoices):
        OPEN = "open", "Open: a person must act"
        RESENT = "resent", "Resent automatically (one row explained it)"
        RESOLVED = "resolved", "Resolved: Stripe agrees with the ledger now"

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    period = models.DateField(help_text="First day of the UTC month (the billing period).")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    metered_price = models.ForeignKey(MeteredPrice, on_delete=models.PROTECT, related_name="+")
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    #: Seconds for a meter, cents for an invoice line.
    ledger_value = models.DecimalField(max_digits=18, decimal_places=6)
    stripe_value = models.DecimalField(max_digits=18, decimal_places=6)
    action = models.TextField(help_text="What to do about it.")
    state = models.CharField(max_length=16, choices=State.choices, default=State.OPEN)
    detected_at = models.DateTimeField(auto_now_add=True)
    checked_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "kind", "metered_price", "period"],
                condition=Q(state="open"),
                name="billing_difference_one_open",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.metered_price} {self.period}: {self.ledger_value} (ledger)"


class MeterErrorReport(models.Model):
    """One of Stripe's asynchronous refusals (a thin event), and the rows it named."""

    event_id = models.CharField(max_length=255, unique=True)
    event_type = models.CharField(max_length=100)
    meter_id = models.CharField(max_length=64, blank=True, default="")
    validation_start = models.DateTimeField()
    validation_end = models.DateTimeField()
    error_count = models.PositiveIntegerField(default=0)
    summary = models.TextField(blank=True, default="")
    rows_flagged = models.PositiveIntegerField(default=0)
    #: Errors Stripe counted beyond the samples it named: judged from the summaries later.
    unnamed_errors = models.PositiveIntegerField(default=0)
    #: When the summaries were compared (or nothing was left to compare): done.
    checked_at = models.DateTimeField(null=True, blank=True)
    #: The summaries could not say which rows were refused: a person decides.
    needs_person = models.BooleanField(default=False)
    check_note = models.TextField(blank=True, default="")
    received_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id}"
