"""The state file: the account survives a restart; it is replaced whole, never half-written."""

import json
from pathlib import Path

import httpx
import pytest
import stripe

from billing.stripe_fake import StripeFake

from .conftest import EVENT, Clock, make_client, make_meter, make_price

pytestmark = pytest.mark.filterwarnings("ignore:Use 'content=<...>':DeprecationWarning")


def test_account_survives_a_restart_from_the_state_file(tmp_path: Path, clock: Clock) -> None:
    path = tmp_path / "stripe.json"
    with StripeFake(now=clock, state_path=path) as first:
        client = make_client(first)
        customer = client.v1.customers.create(params={"name": "Acme"})
        meter = make_meter(client, EVENT)
        price = make_price(client, meter, "24.19", "k")
        client.v1.subscriptions.create(
            params={"customer": customer.id, "items": [{"price": price}]}
        )
        client.v1.billing.meter_events.create(
            params={
                "event_name": EVENT,
                "identifier": "run-1",
                "payload": {"stripe_customer_id": customer.id, "value": "1.5"},
            },
            options={"idempotency_key": "push-1"},
        )
    assert json.loads(path.read_text())["version"] == 1
    assert list(tmp_path.iterdir()) == [path]

    with StripeFake(now=clock, state_path=path) as second:
        client = make_client(second)
        assert client.v1.customers.retrieve(customer.id).name == "Acme"
        assert [e["value"] for e in second.meter_events()] == [1.5]
        with pytest.raises(stripe.InvalidRequestError) as duplicate:
            client.v1.billing.meter_events.create(
                params={
                    "event_name": EVENT,
                    "identifier": "run-1",
                    "payload": {"stripe_customer_id": customer.id, "value": "1"},
                }
            )
        assert duplicate.value.code == "resource_already_exists"
        assert len(second.subscriptions()) == 1


def test_without_a_path_nothing_is_written(tmp_path: Path, clock: Clock) -> None:
    with StripeFake(now=clock) as fake:
        make_client(fake).v1.customers.create(params={"name": "Acme"})
        assert fake.state_path is None
    assert list(tmp_path.iterdir()) == []


def test_config_control_sets_the_lags(clock: Clock) -> None:
    with StripeFake(now=clock) as fake:
        control = f"{fake.url}/_fake/config"
        assert httpx.get(control).json()["summary_lag_seconds"] == 60.0
        answer = httpx.post(control, json={"summary_lag_seconds": 0, "report_delay_seconds": 0})
        assert answer.json()["summary_lag_seconds"] == 0.0
        assert httpx.post(control, json={"lag": 1}).status_code == 400
        assert fake.config.report_delay_seconds == 0.0
