"""Prices and billable seconds: Decimal only, one rounding rule, one place."""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ImproperlyConfigured

from billing.conf import default_price_per_second
from billing.models import TenantPrice
from seedance.models import Run, Tenant

MIN_SECONDS, MAX_SECONDS = 4, 15
#: Amounts keep sub-cent precision (0.2419 $/s); invoices round, the ledger does not.
AMOUNT_PLACES = Decimal("0.000001")


def unit_price(*, tenant: Tenant, resolution: str) -> Decimal:
    """The tenant's price per output second: its own override, else the settings' default."""
    override = (
        TenantPrice.objects.filter(tenant=tenant, resolution=resolution)
        .values_list("price_per_second", flat=True)
        .first()
    )
    if override is not None:
        return override
    price = default_price_per_second(resolution)
    if price is None:
        raise ImproperlyConfigured(f"No price per second for {resolution}")
    return price


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


def period_of(moment: datetime) -> date:
    """The UTC calendar month a moment falls in, as its first day: caps reset monthly."""
    return moment.date().replace(day=1)


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
