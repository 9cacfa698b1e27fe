"""Each tenant's Stripe customer, subscription, card and caps, and the platform's
Billing Portal configuration."""

from django.db import models

from billing.models.fields import money
from seedance.models import Tenant
from seedance.tenancy import TenantQuerySet


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
