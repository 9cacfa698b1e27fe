"""The only reader of ``settings.BILLING``."""

from decimal import Decimal
from typing import Any

from django.conf import settings


def setting(name: str) -> Any:
    return getattr(settings, "BILLING", {}).get(name)


def price_per_second(resolution: str) -> Decimal | None:
    prices: dict[str, Any] = setting("PRICES_PER_SECOND") or {}
    price = prices.get(resolution)
    return Decimal(str(price)) if price is not None else None
