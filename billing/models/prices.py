"""Dated prices, the Stripe meter and price each is sold through, and the subscription
items that carry them."""

from django.db import models
from django.db.models import Q

from seedance.models import Run, Tenant
from seedance.tenancy import TenantQuerySet


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
