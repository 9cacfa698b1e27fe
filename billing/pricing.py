"""Prices and billable seconds: Decimal only, one rounding rule, one place."""

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from billing.conf import default_price_per_second, stripe_enabled
from billing.models import Price, SubscriptionItem, TenantBilling
from seedance.models import Run, Tenant

MIN_SECONDS, MAX_SECONDS = 4, 15
#: Amounts keep sub-cent precision (0.2419 $/s); invoices round, the ledger does not.
AMOUNT_PLACES = Decimal("0.000001")
#: When the settings' first prices took effect: before any run.
SEED_EFFECTIVE_FROM = datetime(2000, 1, 1, tzinfo=UTC)


def prices_in_effect(*, tenant: Tenant, resolution: str, at: datetime) -> list[Price]:
    """Every price that took effect by ``at``, in the order they apply: the tenant's own,
    newest first, then everyone's (what applied before the tenant had its own)."""
    rows = list(
        Price.objects.filter(resolution=resolution, effective_from__lte=at)
        .filter(Q(tenant=tenant) | Q(tenant__isnull=True))
        .order_by("-effective_from")
    )
    own = [row for row in rows if row.tenant_id is not None]
    everyone = [row for row in rows if row.tenant_id is None] or [_seed_default_price(resolution)]
    return own + everyone


def unit_price(*, tenant: Tenant, resolution: str, at: datetime | None = None) -> Decimal:
    """The price a run created at ``at`` (now) is sold at: the newest in effect whose
    metered item is already on the tenant's subscription. A newer price whose item is not
    yet there waits: Stripe would bill its usage to nobody (provisioning adds it)."""
    candidates = prices_in_effect(tenant=tenant, resolution=resolution, at=at or timezone.now())
    billable = _prices_on_subscription(tenant=tenant, resolution=resolution)
    for price in candidates:
        if billable is None or price.per_second in billable:
            return price.per_second
    return candidates[0].per_second


def _prices_on_subscription(*, tenant: Tenant, resolution: str) -> set[Decimal] | None:
    """Unit prices whose item is live on the tenant's current subscription; None when any
    price will bill (Stripe off, or no subscription yet: it will be made with every price
    its waiting rows carry)."""
    if not stripe_enabled():
        return None
    subscription_id = (
        TenantBilling.objects.filter(pk=tenant.pk)
        .values_list("stripe_subscription_id", flat=True)
        .first()
    )
    if not subscription_id:
        return None
    return set(
        SubscriptionItem.objects.filter(
            tenant=tenant,
            subscription_id=subscription_id,
            retired_at__isnull=True,
            metered_price__resolution=resolution,
        ).values_list("metered_price__unit_price", flat=True)
    )


def _seed_default_price(resolution: str) -> Price:
    """The settings seed everyone's first price, once; later changes are rows, not settings."""
    per_second = default_price_per_second(resolution)
    if per_second is None:
        raise ImproperlyConfigured(f"No price per second for {resolution}")
    try:
        with transaction.atomic():
            return Price.objects.create(
                resolution=resolution, per_second=per_second, effective_from=SEED_EFFECTIVE_FROM
            )
    except IntegrityError:
        return Price.objects.get(
            tenant__isnull=True, resolution=resolution, effective_from=SEED_EFFECTIVE_FROM
        )


def worst_case_seconds(duration: str) -> int:
    """What a run may bill at most: its requested duration, or the maximum for "auto"."""
    return MAX_SECONDS if duration == "auto" else int(duration)


def billed_seconds(run: Run) -> int:
    """The requested duration; for "auto", the output's duration rounded half up, clamped.

    An MP4 with audio lasts a few hundredths longer than asked (5.02 s), which must not
    bill a sixth second, hence rounding rather than ceiling.
    """
    if run.duration != "auto":
        return int(run.duration)
    measured = next(
        (o.get("duration") for o in run.outputs if isinstance(o.get("duration"), int | float)),
        None,
    )
    if measured is None:
        return MIN_SECONDS
    seconds = int(Decimal(str(measured)).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return max(MIN_SECONDS, min(MAX_SECONDS, seconds))


def amount_for(seconds: int, price: Decimal) -> Decimal:
    return (price * seconds).quantize(AMOUNT_PLACES, rounding=ROUND_HALF_UP)


def invoice_line_cents(seconds: int, price: Decimal) -> int:
    """What Stripe's invoice line for a metered price charges: the period's quantity times
    ``unit_amount_decimal`` (cents), rounded to a whole cent once per line, half up. So a
    period's bill is the sum of its rounded lines, not its exact total rounded once."""
    return int((price * 100 * seconds).quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class PriceEstimate:
    """What a run will bill: one amount, or a range when the duration is "auto"."""

    resolution: str
    duration: str
    unit_price: Decimal
    min_seconds: int
    max_seconds: int
    min_amount: Decimal
    max_amount: Decimal


def price_estimate(*, tenant: Tenant, resolution: str, duration: str) -> PriceEstimate:
    """The same price and rounding the ledger will use for the same run."""
    price = unit_price(tenant=tenant, resolution=resolution)
    low = MIN_SECONDS if duration == "auto" else int(duration)
    high = worst_case_seconds(duration)
    return PriceEstimate(
        resolution=resolution,
        duration=duration,
        unit_price=price,
        min_seconds=low,
        max_seconds=high,
        min_amount=amount_for(low, price),
        max_amount=amount_for(high, price),
    )
