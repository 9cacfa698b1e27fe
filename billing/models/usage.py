"""A reservation per run and a usage row per billable run: the ledger."""

from decimal import Decimal

from django.db import models
from django.db.models import Q

from billing.models.fields import money
from seedance.models import Run, Tenant
from seedance.tenancy import TenantQuerySet


class RunCharge(models.Model):
    """A run's money: the worst case reserved at create, the real amount once it ends.

    The unit price is frozen here at create, so the estimate shown equals the bill.
    """

    class State(models.TextChoices):
        RESERVED = "reserved"
        SETTLED = "settled"
        RELEASED = "released"

    run = models.OneToOneField(Run, on_delete=models.CASCADE, primary_key=True, related_name="+")
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    end_user_id = models.CharField(max_length=255, blank=True, default="")
    resolution = models.CharField(max_length=8)
    unit_price = models.DecimalField(max_digits=10, decimal_places=6)
    #: Reserved worst case while in flight; the billed amount (or zero) once settled.
    amount = money()
    state = models.CharField(max_length=16, choices=State.choices, default=State.RESERVED)
    period = models.DateField(help_text="First day of the UTC month the run was created in.")
    created_at = models.DateTimeField(auto_now_add=True)
    settled_at = models.DateTimeField(null=True, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "period"], name="charge_tenant_period"),
            models.Index(fields=["tenant", "end_user_id", "period"], name="charge_user_period"),
            models.Index(fields=["tenant"], condition=Q(state="reserved"), name="charge_in_flight"),
        ]

    def __str__(self) -> str:
        return f"{self.amount} for run {self.run_id} ({self.state})"


class UsageRecord(models.Model):
    """The ledger: one row per billable run, written with the run's terminal transition."""

    class PushState(models.TextChoices):
        PENDING = "pending", "Pending"
        CONFIRMED = "confirmed", "Accepted by Stripe"
        HELD = "held", "Held: no Stripe subscription"
        NEEDS_ATTENTION = "needs_attention", "Needs a human"
        WAITING = "waiting", "Waiting: video held for review"
        VOIDED = "voided", "Voided: not billed (rejected, or the copy failed for good)"
        AWAITING_DELIVERY = "awaiting_copy", "Waiting: output being copied"
        REFUSED = "refused", "Refused by Stripe after acceptance: fix, then it is resent"

    run = models.OneToOneField(Run, on_delete=models.PROTECT, related_name="+")
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+")
    end_user_id = models.CharField(max_length=255, blank=True, default="")
    resolution = models.CharField(max_length=8)
    seconds = models.PositiveIntegerField()
    unit_price = models.DecimalField(max_digits=10, decimal_places=6)
    amount = money()
    provider_cost = money(null=True, blank=True)
    completed_at = models.DateTimeField()
    #: The meter event's timestamp, inside the Stripe period that bills it: usage is grouped
    #: by it everywhere. Provisional until the first send, fixed from then on.
    event_timestamp = models.DateTimeField()
    #: The meter (and price) the event goes to: the run's resolution at its frozen price.
    metered_price = models.ForeignKey(
        "MeteredPrice", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    #: Stripe's meter event identifier: the namespace and the run's UUID (plus ``:<n>`` after
    #: Stripe refused an earlier one), unique everywhere; a refused one is never reused.
    identifier = models.CharField(max_length=100, unique=True)
    refused_identifiers = models.JSONField(default=list, blank=True)
    #: ``<identifier>/<attempt>``: the SDK's retries of one attempt reuse it, a new attempt
    #: never replays an earlier attempt's saved answer.
    idempotency_key = models.CharField(max_length=120, blank=True, default="")
    first_sent_at = models.DateTimeField(null=True, blank=True)
    #: When reconciliation saw Stripe's own numbers count this row: billed, not just accepted.
    counted_at = models.DateTimeField(null=True, blank=True)

    push_state = models.CharField(
        max_length=16, choices=PushState.choices, default=PushState.PENDING
    )
    push_attempts = models.PositiveIntegerField(default=0)
    next_push_at = models.DateTimeField(null=True, blank=True)
    last_push_error = models.TextField(blank=True, default="")
    confirmed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "event_timestamp"], name="usage_tenant_event_ts"),
            models.Index(
                fields=["next_push_at"], condition=Q(push_state="pending"), name="usage_to_push"
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=Decimal(0)), name="usage_amount_gte_0"),
            models.CheckConstraint(condition=Q(seconds__gte=1), name="usage_seconds_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.seconds}s {self.resolution} = {self.amount} ({self.push_state})"
