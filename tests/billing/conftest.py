"""The loopback Stripe fake, and billing settings pointing the real SDK at it."""

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from billing.stripe_fake import StripeFake


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
