"""The loopback Stripe fake, and billing settings pointing the real SDK at it."""

import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from billing.models import TenantBilling
from billing.stripe_fake import StripeFake
from seedance.models import Tenant


def paying_tenant(slug: str, name: str) -> Tenant:
    """A tenant with a card on file, recorded as a read of its Stripe customer would leave it:
    billing's tests bill tenants that pay. Tests of the payment-method rule make theirs
    without one (tests/billing/test_payment_required.py)."""
    tenant = Tenant.objects.create(slug=slug, name=name)
    TenantBilling.objects.filter(pk=tenant.pk).update(
        payment_method_id=f"pm_test_{slug}",
        payment_method_brand="visa",
        payment_method_last4="4242",
    )
    return tenant


@pytest.fixture
def tenant(db: None) -> Tenant:
    return paying_tenant("acme", "Acme")


@pytest.fixture
def other_tenant(db: None) -> Tenant:
    return paying_tenant("globex", "Globex")


@pytest.fixture(scope="session")
def stripe_fake_server() -> Iterator[StripeFake]:
    fake = StripeFake().start()
    yield fake
    fake.stop()


@pytest.fixture
def stripe_fake(stripe_fake_server: StripeFake, settings: Any) -> StripeFake:
    stripe_fake_server.reset()
    settings.BILLING = {
        **settings.BILLING,
        "STRIPE_API_KEY": "sk_test_billing",
        "STRIPE_API_BASE": stripe_fake_server.url,
        "STRIPE_TIMEOUT": 2.0,
    }
    return stripe_fake_server


class Clock:
    """One time for the test, our code (passed as ``now=``) and the fake (its ``now``):
    the real time, plus whatever the test jumped forward."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def now(self) -> datetime:
        return timezone.now() + self.offset

    def time(self) -> float:
        return self.now().timestamp()

    def set(self, moment: datetime) -> None:
        assert moment >= self.now(), "time only moves forward"
        self.offset += moment - self.now()

    def advance(self, **delta: float) -> datetime:
        self.offset += timedelta(**delta)
        return self.now()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def clocked_stripe(clock: Clock, settings: Any) -> Iterator[StripeFake]:
    """A fake of its own on the test's clock, its asynchronous work without lag, and
    reconciliation comparing every window at once."""
    fake = StripeFake(now=clock.time, summary_lag_seconds=0, report_delay_seconds=0).start()
    settings.BILLING = {
        **settings.BILLING,
        "STRIPE_API_KEY": "sk_test_billing",
        "STRIPE_API_BASE": fake.url,
        "STRIPE_TIMEOUT": 2.0,
        "RECONCILE_SETTLE_SECONDS": 0,
        "PUSH_MAX_BACKOFF_SECONDS": 0,
    }
    yield fake
    fake.stop()


EVENT_SECRET = "whsec_thin_events_test"


@pytest.fixture
def destination(clocked_stripe: StripeFake, live_server: Any, settings: Any) -> StripeFake:
    """Stripe's event destination points at our live endpoint, signing with our secret."""
    settings.BILLING = {**settings.BILLING, "STRIPE_EVENT_SECRETS": ["whsec_old", EVENT_SECRET]}
    clocked_stripe.add_destination(f"{live_server.url}/hooks/stripe/events/", EVENT_SECRET)
    return clocked_stripe


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the error report never arrived"
        time.sleep(0.05)
