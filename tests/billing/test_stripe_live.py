"""The billing scenario against Stripe's own test mode: the check to run before a release.

Opt-in: runs only when ``STRIPE_TEST_API_KEY`` (an ``sk_test_``/``rk_test_`` key) is set, and
needs the internet. Each run uses its own namespace and a test clock, and deletes the clock
(and with it the customer) at the end. What it cannot do against the real Stripe (inject a
failure into provisioning, step the fake's clock) the fake-based scenario covers.
"""

import os
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from billing.meters import push_pending_usage
from billing.models import TenantBilling, UsageRecord
from billing.periods import month_start, next_month_start
from billing.provisioning import stripe_provision
from billing.reconcile import billing_reconcile
from billing.selectors import ledger_invoice_lines
from billing.stripe_client import stripe_client
from billing.stripe_reads import invoice_line_cents_by_rate
from seedance.moderation import run_approve
from tests.billing.factories import billable_run, new_price

KEY = os.environ.get("STRIPE_TEST_API_KEY", "")
pytestmark = [
    pytest.mark.skipif(not KEY, reason="STRIPE_TEST_API_KEY is not set (opt-in live check)"),
    pytest.mark.django_db(transaction=True),
]
SUMMARY_WAIT_SECONDS = 300


@pytest.fixture
def admin_user(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user(username="reviewer", is_staff=True)


@pytest.fixture
def live_stripe(settings: Any) -> Iterator[Any]:
    assert KEY.startswith(("sk_test_", "rk_test_")), "only a test-mode key, never a live one"
    settings.BILLING = {
        **settings.BILLING,
        "STRIPE_API_KEY": KEY,
        "STRIPE_API_BASE": "",
        "NAMESPACE": f"seedance-release-check-{uuid.uuid4().hex[:8]}",
        "RECONCILE_SETTLE_SECONDS": 0,
        "PUSH_MAX_BACKOFF_SECONDS": 0,
    }
    client = stripe_client()
    clock = client.v1.test_helpers.test_clocks.create(params={"frozen_time": int(time.time())})
    settings.BILLING = {**settings.BILLING, "STRIPE_TEST_CLOCK": clock.id}
    yield client
    client.v1.test_helpers.test_clocks.delete(clock.id)


def test_release_check_ledger_and_stripes_invoice_agree_to_the_cent(
    tenant: Any, live_stripe: Any, admin_user: Any
) -> None:
    stripe_provision(client=live_stripe, tenants=[tenant])
    for duration in ("15", "15", "4"):
        billable_run(tenant, duration=duration)  # 34 s at 720p: $8.2246 -> $8.22
    billable_run(tenant, duration="9", resolution="480p")  # $0.972 -> $0.97
    held = billable_run(tenant, duration="5", nsfw_detected=True)
    run_approve(run_id=held.pk, decided_by=admin_user)
    new_price(tenant, "720p", "0.30")
    stripe_provision(client=live_stripe, tenants=[tenant])
    billable_run(tenant, duration="5")  # at the new price, on its own line
    for _ in range(5):
        push_pending_usage(client=live_stripe)
    assert not UsageRecord.objects.exclude(push_state=UsageRecord.PushState.CONFIRMED).exists()

    billing = TenantBilling.objects.get(tenant=tenant)
    start = month_start(timezone.now())
    expected = {
        (line.resolution, line.unit_price): line.cents
        for line in ledger_invoice_lines(tenant=tenant, start=start, end=next_month_start(start))
    }
    # 39 s at $0.2419 (the approved video included), 9 s at $0.108, 5 s at $0.30.
    assert expected == {
        ("720p", Decimal("0.2419")): 943,
        ("480p", Decimal("0.108")): 97,
        ("720p", Decimal("0.3")): 150,
    }
    deadline = time.monotonic() + SUMMARY_WAIT_SECONDS
    while True:  # Stripe's summaries and preview are eventually consistent
        report = billing_reconcile(client=live_stripe, tenants=[tenant])
        if report.clean and report.matched == len(expected):
            break
        assert time.monotonic() < deadline, f"Stripe never agreed: {report.differences}"
        time.sleep(15)
    assert invoice_line_cents_by_rate(live_stripe, billing, start, timezone.now()) == expected
