"""Every resolution a tenant can order must have a price, as a Decimal, never a float."""

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.apps import AppConfig
from django.core.checks import Error, register

from billing.conf import setting
from seedance.run_input import RESOLUTIONS


@register()
def check_prices(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[Error]:
    prices: dict[str, Any] = setting("PRICES_PER_SECOND") or {}
    errors = []
    for resolution in RESOLUTIONS:
        price = prices.get(resolution)
        if price is None:
            errors.append(Error(f"No price per second for {resolution}.", id="billing.E001"))
        elif not isinstance(price, Decimal) or not price.is_finite() or price < 0:
            errors.append(
                Error(
                    f"The {resolution} price must be a non-negative Decimal, not {price!r}.",
                    id="billing.E002",
                )
            )
    return errors
