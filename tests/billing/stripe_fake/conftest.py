"""The Stripe fake on a settable clock, the real SDK pointed at it, and a webhook receiver."""

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import stripe

from billing.stripe_fake import StripeFake

EVENT = "seedance_seconds_720p"
DAY = 86_400


class Clock:
    """A settable clock, so 24-hour, 35-day and monthly windows are tested without waiting."""

    def __init__(self) -> None:
        self.now = float(int(time.time()))

    def __call__(self) -> float:
        return self.now


@dataclass
class Account:
    customer: str
    meter: str
    price: str


@dataclass
class Receiver:
    """A webhook endpoint on loopback: keeps each delivery, answers ``status``."""

    url: str = ""
    status: int = 200
    received: list[tuple[bytes, str]] = field(default_factory=list)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def fake(clock: Clock) -> Iterator[StripeFake]:
    """Summaries without lag; error reports wait for ``flush`` (the clock stands still)."""
    with StripeFake(now=clock, summary_lag_seconds=0, report_delay_seconds=60) as server:
        yield server


def make_client(
    fake: StripeFake, *, timeout: float = 5.0, retries: int = 0, key: str = "sk_test_x"
) -> stripe.StripeClient:
    http_client = stripe.HTTPXClient(timeout=timeout, allow_sync_methods=True)
    http_client._sleep_time_seconds = lambda num_retries: 0.0  # type: ignore[method-assign]
    return stripe.StripeClient(
        key,
        base_addresses={
            "api": fake.url,
            "meter_events": fake.url,
            "files": fake.url,
            "connect": fake.url,
        },
        max_network_retries=retries,
        http_client=http_client,
    )


@pytest.fixture
def client(fake: StripeFake) -> stripe.StripeClient:
    return make_client(fake)


def make_price(client: stripe.StripeClient, meter: str, cents: str, key: str) -> str:
    price = client.v1.prices.create(
        params={
            "currency": "usd",
            "unit_amount_decimal": Decimal(cents),
            "recurring": {"interval": "month", "usage_type": "metered", "meter": meter},
            "product_data": {"name": "Seedance 720p seconds"},
            "lookup_key": key,
        }
    )
    return price.id


def make_meter(client: stripe.StripeClient, event_name: str) -> str:
    meter = client.v1.billing.meters.create(
        params={
            "display_name": event_name,
            "event_name": event_name,
            "default_aggregation": {"formula": "sum"},
            "customer_mapping": {"type": "by_id", "event_payload_key": "stripe_customer_id"},
            "value_settings": {"event_payload_key": "value"},
        }
    )
    return meter.id


@pytest.fixture
def account(client: stripe.StripeClient) -> Account:
    customer = client.v1.customers.create(
        params={"name": "Acme", "email": "ops@acme.test", "metadata": {"tenant": "acme"}}
    )
    meter = make_meter(client, EVENT)
    return Account(customer.id, meter, make_price(client, meter, "24.19", "seedance_720p"))


def send(
    client: stripe.StripeClient,
    account: Account,
    *,
    value: str = "5",
    identifier: str | None = "run-1",
    options: dict[str, Any] | None = None,
    customer: str | None = None,
    **params: Any,
) -> Any:
    body: dict[str, Any] = {
        "event_name": EVENT,
        "payload": {"stripe_customer_id": customer or account.customer, "value": value},
        **params,
    }
    if identifier is not None:
        body["identifier"] = identifier
    return client.v1.billing.meter_events.create(params=body, options=options or {})


def refusal(exc: stripe.StripeError) -> dict[str, Any]:
    assert exc.json_body is not None
    error: dict[str, Any] = exc.json_body["error"]
    return error


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.received.append((body, self.headers["Stripe-Signature"]))
            self.send_response(state.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/stripe/thin"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
