"""What we bill: a reservation per run, a usage row per billable run, and each tenant's
Stripe state and caps. Only what we bill and must show is stored, not Stripe's graph."""

from decimal import Decimal
from typing import Any

from django.db import models
from django.db.models import Q

from seedance.models import Run, Tenant


def money(**options: Any) -> "models.DecimalField[Any, Any]":
    """USD with sub-cent precision: per-second prices like 0.2419 multiply exactly."""
    return models.DecimalField(max_digits=14, decimal_places=6, **options)


class TenantBilling(models.Model):
    """A tenant's Stripe customer and subscription state, and its spend caps."""

    class SubscriptionStatus(models.TextChoices):
        NONE = "none", "No subscription"
        INCOMPLETE = "incomplete"
        INCOMPLETE_EXPIRED = "incomplete_expired"
        TRIALING = "trialing"
        ACTIVE = "active"
        PAST_DUE = "past_due"
        UNPAID = "unpaid"
        CANCELED = "canceled"
        PAUSED = "paused"

    tenant = models.OneToOneField(
        Tenant, on_delete=models.CASCADE, primary_key=True, related_name="billing"
    )
    stripe_customer_id = models.CharField(max_length=64, null=True, blank=True, unique=True)
    stripe_subscription_id = models.CharField(max_length=64, blank=True, default="")
    subscription_status = models.CharField(
        max_length=24, choices=SubscriptionStatus.choices, default=SubscriptionStatus.NONE
    )
    #: Creation time of the Stripe event the status came from: an older event never wins.
    subscription_status_at = models.DateTimeField(null=True, blank=True)
    monthly_spend_cap = money(null=True, blank=True)
    max_in_flight_runs = models.PositiveIntegerField(null=True, blank=True)
    end_user_monthly_spend_cap = money(
        null=True, blank=True, help_text="Default cap for each end_user_id."
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"billing of {self.tenant_id}"


class TenantPrice(models.Model):
    """A tenant's own price per output second, overriding the settings' default."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="prices")
    resolution = models.CharField(max_length=8, choices=Run.Resolution.choices)
    price_per_second = models.DecimalField(max_digits=10, decimal_places=6)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "resolution"], name="tenant_price_unique"),
            models.CheckConstraint(
                condition=Q(price_per_second__gte=0), name="tenant_price_non_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tenant_id} {self.resolution}: {self.price_per_second}/s"


class EndUserLimit(models.Model):
    """One end user's monthly cap, overriding the tenant's default per-end-user cap."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    end_user_id = models.CharField(max_length=255)
    monthly_spend_cap = money()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "end_user_id"], name="end_user_limit_unique")
        ]

    def __str__(self) -> str:
        return f"{self.tenant_id}/{self.end_user_id}: {self.monthly_spend_cap}"


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
        CONFIRMED = "confirmed", "Confirmed by Stripe"
        HELD = "held", "Held: no Stripe subscription"
        NEEDS_ATTENTION = "needs_attention", "Needs a human"
        WAITING = "waiting", "Waiting: video held for review"
        VOIDED = "voided", "Voided: not billed (rejected, or the copy failed for good)"
        AWAITING_DELIVERY = "awaiting_copy", "Waiting: output being copied"

    run = models.OneToOneField(Run, on_delete=models.PROTECT, related_name="+")
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+")
    end_user_id = models.CharField(max_length=255, blank=True, default="")
    resolution = models.CharField(max_length=8)
    seconds = models.PositiveIntegerField()
    unit_price = models.DecimalField(max_digits=10, decimal_places=6)
    amount = money()
    provider_cost = money(null=True, blank=True)
    completed_at = models.DateTimeField()
    #: Stripe's meter event identifier: a namespace and the run's UUID, unique everywhere.
    identifier = models.CharField(max_length=100, unique=True)

    push_state = models.CharField(
        max_length=16, choices=PushState.choices, default=PushState.PENDING
    )
    push_attempts = models.PositiveIntegerField(default=0)
    next_push_at = models.DateTimeField(null=True, blank=True)
    #: When a send first ended without an answer; Stripe dedupes for about 24 h only.
    outcome_unknown_since = models.DateTimeField(null=True, blank=True)
    last_push_error = models.TextField(blank=True, default="")
    confirmed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "completed_at"], name="usage_tenant_completed"),
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


class StripeMeter(models.Model):
    """The Stripe meter counting one resolution's seconds (whole seconds, summed)."""

    resolution = models.CharField(max_length=8, unique=True)
    event_name = models.CharField(max_length=100, unique=True)
    meter_id = models.CharField(max_length=64, unique=True)

    def __str__(self) -> str:
        return self.event_name


class StripePrice(models.Model):
    """A metered price on a meter: one per unit price in use (tenant overrides differ)."""

    meter = models.ForeignKey(StripeMeter, on_delete=models.PROTECT, related_name="prices")
    unit_price = models.DecimalField(max_digits=10, decimal_places=6)
    price_id = models.CharField(max_length=64, unique=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["meter", "unit_price"], name="stripe_price_unique")
        ]

    def __str__(self) -> str:
        return f"{self.meter} @ {self.unit_price}/s"


class StripeEventReceipt(models.Model):
    """Each Stripe webhook event id, processed once."""

    event_id = models.CharField(max_length=255, unique=True)
    event_type = models.CharField(max_length=100)
    created = models.DateTimeField(help_text="The event's own creation time at Stripe.")
    received_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id}"
