"""Startup checks: every resolution has a Decimal price, the payment-method allowance is a
Decimal; Stripe set up consistently."""

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.apps import AppConfig
from django.core.checks import CheckMessage, Error, Warning, register
from django.utils.module_loading import import_string

from billing.conf import setting, stripe_enabled
from billing.tasks import TASK_PATHS
from seedance.run_input import RESOLUTIONS


@register()
def check_prices(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[CheckMessage]:
    prices: dict[str, Any] = setting("PRICES_PER_SECOND") or {}
    errors: list[CheckMessage] = []
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
    allowance = setting("PAYMENT_METHOD_ALLOWANCE")
    if not isinstance(allowance, Decimal) or not allowance.is_finite() or allowance < 0:
        errors.append(
            Error(
                f"PAYMENT_METHOD_ALLOWANCE must be a non-negative Decimal, not {allowance!r}.",
                id="billing.E008",
            )
        )
    return errors


@register()
def check_stripe(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    for path in TASK_PATHS:
        try:
            import_string(path)
        except ImportError:
            messages.append(Error(f"{path!r} does not resolve.", id="billing.E003"))
    if stripe_enabled() and not setting("STRIPE_WEBHOOK_SECRETS"):
        messages.append(
            Warning(
                "STRIPE_API_KEY is set but STRIPE_WEBHOOK_SECRETS is not: subscription state "
                "and cards on file will not follow Stripe (payment failures and completed "
                "Checkouts go unnoticed until the admin returns to the success page).",
                id="billing.W004",
            )
        )
    if stripe_enabled() and not setting("STRIPE_EVENT_SECRETS"):
        messages.append(
            Warning(
                "STRIPE_API_KEY is set but STRIPE_EVENT_SECRETS is not: Stripe's asynchronous "
                "refusals of meter events (thin events) cannot be verified, only found later "
                "by billing_reconcile.",
                id="billing.W006",
            )
        )
    if setting("STRIPE_TEST_CLOCK") and not str(setting("STRIPE_API_KEY")).startswith(
        ("sk_test", "rk_test")
    ):
        messages.append(Error("STRIPE_TEST_CLOCK needs a test-mode key.", id="billing.E007"))
    live_key = stripe_enabled() and not str(setting("STRIPE_API_KEY")).startswith(
        ("sk_test", "rk_test")
    )
    if live_key and setting("NAMESPACE") == "seedance-dev":
        messages.append(
            Error(
                "A live Stripe key with the development identifier namespace: identifiers "
                "must never repeat across environments.",
                hint="Set STRIPE_NAMESPACE to this deployment's own name.",
                id="billing.E005",
            )
        )
    return messages
