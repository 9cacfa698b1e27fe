"""Sending a batch: one call at a time per customer and meter, customers side by side."""

import threading
import time
from collections import Counter
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs

import pytest
import stripe

from billing.meters import push_pending_usage
from billing.models import UsageRecord
from billing.provisioning import stripe_provision
from billing.stripe_client import stripe_client
from billing.stripe_fake import StripeFake
from tests.billing.factories import billable_run


class InFlightHTTPClient(stripe.HTTPXClient):
    """The SDK's real transport, noting how many meter events are in flight per customer;
    each exchange is held a moment so calls that may overlap do."""

    def __init__(self) -> None:
        super().__init__(timeout=5, allow_sync_methods=True)
        self.lock = threading.Lock()
        self.in_flight: Counter[str] = Counter()
        self.most_per_customer = 0
        self.most_overall = 0

    def request(  # type: ignore[override]
        self, method: str, url: str, headers: Mapping[str, str], post_data: Any = None
    ) -> tuple[bytes, int, Mapping[str, str]]:
        if not url.endswith("/v1/billing/meter_events"):
            return super().request(method, url, headers, post_data)
        form = parse_qs(post_data.decode() if isinstance(post_data, bytes) else post_data)
        customer = form["payload[stripe_customer_id]"][0]
        with self.lock:
            self.in_flight[customer] += 1
            self.most_per_customer = max(self.most_per_customer, self.in_flight[customer])
            self.most_overall = max(self.most_overall, sum(self.in_flight.values()))
        try:
            time.sleep(0.02)
            return super().request(method, url, headers, post_data)
        finally:
            with self.lock:
                self.in_flight[customer] -= 1


def client_with(http_client: stripe.HTTPClient, base: str) -> stripe.StripeClient:
    addresses: Any = {"api": base, "meter_events": base, "files": base, "connect": base}
    return stripe.StripeClient(
        "sk_test_billing", base_addresses=addresses, max_network_retries=0, http_client=http_client
    )


@pytest.fixture
def two_customers(tenant: Any, other_tenant: Any, stripe_fake: StripeFake, settings: Any) -> None:
    settings.BILLING = {**settings.BILLING, "PUSH_CONCURRENCY": 8}
    stripe_provision(client=stripe_client())


def test_push_sends_one_call_at_a_time_per_customer_and_meter(
    tenant: Any, other_tenant: Any, two_customers: None, stripe_fake: StripeFake
) -> None:
    for _ in range(4):
        billable_run(tenant)
        billable_run(other_tenant)
    transport = InFlightHTTPClient()
    report = push_pending_usage(client=client_with(transport, stripe_fake.url))
    assert report.accepted == 8
    assert transport.most_per_customer == 1
    assert transport.most_overall == 2  # the two customers were sent side by side
    assert set(UsageRecord.objects.values_list("push_state", flat=True)) == {"confirmed"}


def test_push_with_concurrency_one_sends_everything_serially(
    tenant: Any, other_tenant: Any, two_customers: None, stripe_fake: StripeFake, settings: Any
) -> None:
    settings.BILLING = {**settings.BILLING, "PUSH_CONCURRENCY": 1}
    billable_run(tenant)
    billable_run(other_tenant)
    transport = InFlightHTTPClient()
    assert push_pending_usage(client=client_with(transport, stripe_fake.url)).accepted == 2
    assert transport.most_overall == 1


def test_refused_and_unknown_outcomes_are_written_after_the_batch(
    tenant: Any, other_tenant: Any, two_customers: None, stripe_fake: StripeFake
) -> None:
    """A refusal needs a person, a failed exchange retries; the other customer's row lands."""
    refused, unknown, fine = billable_run(tenant), billable_run(tenant), billable_run(other_tenant)
    rows = {row.run_id: row for row in UsageRecord.objects.all()}

    class Answers(InFlightHTTPClient):
        def request(  # type: ignore[override]
            self, method: str, url: str, headers: Mapping[str, str], post_data: Any = None
        ) -> tuple[bytes, int, Mapping[str, str]]:
            body = post_data.decode() if isinstance(post_data, bytes) else str(post_data or "")
            identifier = parse_qs(body).get("identifier", [""])[0]
            if identifier == rows[unknown.pk].identifier:
                raise stripe.APIConnectionError("connection reset")
            if identifier == rows[refused.pk].identifier:
                error = b'{"error": {"type": "invalid_request_error", "message": "Bad event."}}'
                return error, 400, {}
            return super().request(method, url, headers, post_data)

    report = push_pending_usage(client=client_with(Answers(), stripe_fake.url))
    assert (report.accepted, report.retrying, report.needs_attention) == (1, 1, 1)
    states = dict(UsageRecord.objects.values_list("run_id", "push_state"))
    assert states == {refused.pk: "needs_attention", unknown.pk: "pending", fine.pk: "confirmed"}
    assert UsageRecord.objects.get(run=unknown).push_attempts == 1
