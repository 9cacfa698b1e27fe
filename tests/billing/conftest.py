"""The loopback Stripe fake, and billing settings pointing the real SDK at it."""

from collections.abc import Iterator
from typing import Any

import pytest

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
