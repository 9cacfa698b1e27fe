"""What we bill: a reservation per run, a usage row per billable run, and each tenant's
Stripe state and caps. Only what we bill and must show is stored, not Stripe's graph."""

from decimal import Decimal
from typing import Any

from django.db import models
from django.db.models import Q

from seedance.models import Run, Tenant
from seedance.tenancy import TenantQuerySet


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
    #: When the status was last read from the subscription object at Stripe.
    subscription_status_at = models.DateTimeField(null=True, blank=True)
    #: The current subscription's ``created``: of this tenant's subscriptions, the newest wins.
    subscription_created_at = models.DateTimeField(null=True, blank=True)
    #: Bumped when a customer or subscription must be made anew, so its idempotency key
    #: never replays the answer that made the one it replaces.
    customer_generation = models.PositiveIntegerField(default=1)
    subscription_generation = models.PositiveIntegerField(default=1)
    provision_attempts = models.PositiveIntegerField(default=0)
    next_provision_at = models.DateTimeField(null=True, blank=True)
    last_provision_error = models.TextField(blank=True, default="")
    monthly_spend_cap = money(null=True, blank=True)
    max_in_flight_runs = models.PositiveIntegerField(null=True, blank=True)
    end_user_monthly_spend_cap = money(
        null=True, blank=True, help_text="Default cap for each end_user_id."
    )
    #: The customer's default payment method as last read from Stripe (an event's news, or a
    #: completed Checkout read by the server), never from what a browser says.
    payment_method_id = models.CharField(max_length=64, blank=True, default="")
    payment_method_brand = models.CharField(max_length=32, blank=True, default="")
    payment_method_last4 = models.CharField(max_length=4, blank=True, default="")
    payment_method_read_at = models.DateTimeField(null=True, blank=True)
    #: The Stripe customer's email as last read or set; invoices go there.
    billing_email = models.EmailField(blank=True, default="")
    payment_method_exempt = models.BooleanField(
        default=False,
        help_text=(
            "May create runs past the allowance without a payment method. Set for the "
            "tenants that existed before payment methods were asked for; turn it off to ask."
        ),
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"billing of {self.tenant_id}"

    @property
    def has_payment_method(self) -> bool:
        return bool(self.payment_method_id)


class PortalConfiguration(models.Model):
    """The Billing Portal configuration this deployment made at Stripe, used by every
    portal session: one per namespace, since several deployments may share an account."""

    namespace = models.CharField(max_length=100, unique=True)
    configuration_id = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.namespace}: {self.configuration_id}"


class Price(models.Model):
    """A price per output second from ``effective_from`` on: the tenant's own, or (no
    tenant) everyone's. Rows are never edited: a change is a new row with a later date,
    so a run's price is the one in effect when it was created (the settings only seed
    the first everyone-row)."""

    tenant = models.ForeignKey(
        Tenant, on_delete=models.CASCADE, null=True, blank=True, related_name="prices"
    )
    resolution = models.CharField(max_length=8, choices=Run.Resolution.choices)
    per_second = models.DecimalField(max_digits=10, decimal_places=6)
    effective_from = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "resolution", "effective_from"],
                condition=Q(tenant__isnull=False),
                name="price_unique_tenant_date",
            ),
            models.UniqueConstraint(
                fields=["resolution", "effective_from"],
                condition=Q(tenant__isnull=True),
                name="price_unique_default_date",
            ),
            models.CheckConstraint(condition=Q(per_second__gte=0), name="price_non_negative"),
        ]
        indexes = [
            models.Index(fields=["resolution", "effective_from"], name="price_effective"),
        ]

    def __str__(self) -> str:
        who = self.tenant_id or "everyone"
        return f"{who} {self.resolution}: {self.per_second}/s from {self.effective_from:%Y-%m-%d}"


class EndUserLimit(models.Model):
    """One end user's monthly cap, overriding the tenant's default per-end-user cap."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    end_user_id = models.CharField(max_length=255)
    monthly_spend_cap = money()

    objects = TenantQuerySet.as_manager()

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


class MeteredPrice(models.Model):
    """One Stripe meter and its one metered price for a (resolution, unit price).

    A price change makes a new meter rather than moving an old one, so every event lands on
    the meter whose price it was sold at and each invoice line reads as one price.
    """

    resolution = models.CharField(max_length=8)
    unit_price = models.DecimalField(max_digits=10, decimal_places=6)
    #: Also the price's lookup key: unique per Stripe account, so it carries the namespace.
    event_name = models.CharField(max_length=100, unique=True)
    meter_id = models.CharField(max_length=64, unique=True)
    price_id = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["resolution", "unit_price"], name="metered_price_unique"
            )
        ]

    def __str__(self) -> str:
        return self.event_name


class SubscriptionItem(models.Model):
    """A metered price's item on a tenant's subscription. Stripe bills an item's usage only
    from when it was added, so it is added before the first run at its price is admitted,
    and retired only after a period's grace hour once no unsent row carries its price."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    subscription_id = models.CharField(max_length=64)
    metered_price = models.ForeignKey(MeteredPrice, on_delete=models.PROTECT, related_name="+")
    item_id = models.CharField(max_length=64, unique=True)
    #: The item's ``created`` at Stripe: usage timestamped earlier is not billed on it.
    added_at = models.DateTimeField()
    retired_at = models.DateTimeField(null=True, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["subscription_id", "metered_price"],
                condition=Q(retired_at__isnull=True),
                name="subscription_item_one_live_per_price",
            )
        ]

    def __str__(self) -> str:
        return f"{self.item_id} ({self.metered_price})"


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
    received_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id}"
