"""The only reader of ``settings.BILLING``: read at call time, with defaults."""

from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

DEFAULTS: dict[str, Any] = {
    "PRICES_PER_SECOND": {},
    "STRIPE_API_KEY": "",
    "STRIPE_API_BASE": "",
    "STRIPE_WEBHOOK_SECRETS": [],
    "STRIPE_TIMEOUT": 10.0,
    #: This deployment's name at Stripe: in identifiers, event names, keys and metadata.
    "NAMESPACE": "seedance-dev",
    "STRIPE_EVENT_SECRETS": [],
    #: Test mode only: new customers join this test clock (the release check uses one).
    "STRIPE_TEST_CLOCK": "",
    "ENFORCE_SUBSCRIPTION": False,
    "AUTO_PROVISION": True,
    "PUSH_BATCH_SIZE": 200,
    #: Calls in flight at once per push, each to a different (customer, meter): Stripe
    #: takes one concurrent call per customer per meter.
    "PUSH_CONCURRENCY": 8,
    "PUSH_MAX_BACKOFF_SECONDS": 3600,
    "UNKNOWN_OUTCOME_ATTENTION_SECONDS": 20 * 3600,
    "METER_EVENT_MAX_AGE_DAYS": 35,
    "PROVISION_MAX_BACKOFF_SECONDS": 3600,
    #: Stripe takes late usage for an hour after a period ends; we aim well inside it.
    "PERIOD_GRACE_SECONDS": 3600,
    "PERIOD_GRACE_MARGIN_SECONDS": 600,
    "MAX_SUBSCRIPTION_ITEMS": 20,
    #: Meter event summaries are eventually consistent: compare windows older than this.
    "RECONCILE_SETTLE_SECONDS": 3600,
    #: An error report's unnamed refusals are judged this long after its window closed.
    "SUMMARY_SETTLE_SECONDS": 300,
    #: USD a tenant without a payment method may use, all time, before it must add one.
    "PAYMENT_METHOD_ALLOWANCE": Decimal(0),
}


def setting(name: str) -> Any:
    configured = getattr(settings, "BILLING", {})
    if name in configured:
        return configured[name]
    if name in DEFAULTS:
        return DEFAULTS[name]
    raise ImproperlyConfigured(f"BILLING[{name!r}] is not a known setting")


def default_price_per_second(resolution: str) -> Decimal | None:
    price = (setting("PRICES_PER_SECOND") or {}).get(resolution)
    return Decimal(str(price)) if price is not None else None


def payment_method_allowance() -> Decimal:
    return Decimal(str(setting("PAYMENT_METHOD_ALLOWANCE")))


def stripe_enabled() -> bool:
    return bool(setting("STRIPE_API_KEY"))


#: Where Stripe serves Checkout and the Billing Portal when the API is Stripe's own.
STRIPE_HOSTED_ORIGINS = ("https://checkout.stripe.com", "https://billing.stripe.com")


def stripe_hosted_origins() -> list[str]:
    """The origins our billing forms send a person on to: Stripe's hosted pages, or, with
    ``STRIPE_API_BASE`` set (the loopback fake), that base's origin, which serves its own."""
    base = urlsplit(str(setting("STRIPE_API_BASE")))
    if not base.netloc:
        return list(STRIPE_HOSTED_ORIGINS)
    return [f"{base.scheme}://{base.netloc}"]
