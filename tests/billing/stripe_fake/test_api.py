"""The Stripe fake, driven by the real stripe SDK: Stripe's checks, error shapes and faults."""

import json
import time
from decimal import Decimal
from typing import Any

import httpx
import pytest
import stripe

from billing.stripe_fake import StripeFake

from .conftest import DAY, EVENT, Account, Clock, make_client, refusal, send

# stripe 16.1's HTTPXClient passes the form body as ``data=``, which httpx 0.28 deprecates.
pytestmark = pytest.mark.filterwarnings("ignore:Use 'content=<...>':DeprecationWarning")


def test_customer_is_found_by_id_list_and_metadata_search(
    client: stripe.StripeClient, account: Account
) -> None:
    other = client.v1.customers.create(params={"name": "Globex", "metadata": {"tenant": "globex"}})

    assert client.v1.customers.retrieve(account.customer).email == "ops@acme.test"
    first = client.v1.customers.list(params={"limit": 1})
    assert [c.id for c in first.data] == [other.id]
    assert first.has_more
    rest = client.v1.customers.list(params={"starting_after": other.id})
    assert [c.id for c in rest.data] == [account.customer]
    assert not rest.has_more
    found = client.v1.customers.search(params={"query": "metadata['tenant']:'acme'"})
    assert found.object == "search_result"
    assert [c.id for c in found.data] == [account.customer]
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.customers.retrieve("cus_nope")
    assert missing.value.http_status == 404
    assert missing.value.code == "resource_missing"


def test_unit_amount_decimal_round_trips_as_a_string(
    client: stripe.StripeClient, fake: StripeFake, account: Account
) -> None:
    price = client.v1.prices.retrieve(account.price)

    assert price.unit_amount_decimal == Decimal("24.19")
    assert price.unit_amount is None
    assert price.last_response is not None
    assert json.loads(price.last_response.body)["unit_amount_decimal"] == "24.19"
    assert fake.prices()[0]["unit_amount_decimal"] == "24.19"
    assert price.recurring is not None
    assert price.recurring.meter == account.meter


def test_prices_are_found_by_lookup_key_which_names_one_price(
    client: stripe.StripeClient, account: Account
) -> None:
    listed = client.v1.prices.list(params={"lookup_keys": ["seedance_720p"]})
    assert [p.id for p in listed.data] == [account.price]
    with pytest.raises(stripe.InvalidRequestError) as taken:
        client.v1.prices.create(
            params={
                "currency": "usd",
                "unit_amount": 10,
                "product_data": {"name": "Other"},
                "lookup_key": "seedance_720p",
            }
        )
    assert taken.value.param == "lookup_key"


def test_metered_price_needs_an_existing_meter(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.prices.create(
            params={
                "currency": "usd",
                "unit_amount_decimal": Decimal("10.8"),
                "recurring": {"interval": "month", "usage_type": "metered", "meter": "mtr_nope"},
                "product_data": {"name": "480p"},
            }
        )
    assert exc.value.http_status == 400
    assert exc.value.code == "resource_missing"
    assert exc.value.param == "recurring[meter]"


def test_second_active_meter_with_the_same_event_name_is_refused(
    client: stripe.StripeClient, account: Account
) -> None:
    params: Any = {
        "display_name": "Again",
        "event_name": EVENT,
        "default_aggregation": {"formula": "sum"},
    }
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.billing.meters.create(params=params)
    assert exc.value.param == "event_name"

    client.v1.billing.meters.deactivate(account.meter)
    replacement = client.v1.billing.meters.create(params=params)
    active = client.v1.billing.meters.list(params={"status": "active"})
    assert [m.id for m in active.data] == [replacement.id]


def test_subscription_needs_an_existing_customer_and_price(
    client: stripe.StripeClient, account: Account
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as no_customer:
        client.v1.subscriptions.create(
            params={"customer": "cus_nope", "items": [{"price": account.price}]}
        )
    assert no_customer.value.param == "customer"
    with pytest.raises(stripe.InvalidRequestError) as no_price:
        client.v1.subscriptions.create(
            params={"customer": account.customer, "items": [{"price": "price_nope"}]}
        )
    assert no_price.value.param == "items[0][price]"

    subscription = client.v1.subscriptions.create(
        params={"customer": account.customer, "items": [{"price": account.price}]}
    )
    assert subscription.status == "active"
    listed = client.v1.subscriptions.list(params={"customer": account.customer})
    assert [s.id for s in listed.data] == [subscription.id]
    assert client.v1.subscriptions.retrieve(subscription.id).customer == account.customer


def test_meter_event_is_answered_and_recorded_with_an_integer_value(
    client: stripe.StripeClient, fake: StripeFake, account: Account, clock: Clock
) -> None:
    event = send(client, account, value="42", timestamp=int(clock.now) - 60)

    assert event.object == "billing.meter_event"
    assert event.identifier == "run-1"
    assert event.payload["value"] == "42"
    assert event.timestamp == int(clock.now) - 60
    [recorded] = fake.meter_events()
    assert recorded["value"] == 42
    assert recorded["customer"] == account.customer
    assert recorded["event_name"] == EVENT
    assert recorded["canceled"] is False


def test_duplicate_identifier_is_refused_and_not_recorded_twice(
    client: stripe.StripeClient, fake: StripeFake, account: Account
) -> None:
    send(client, account, identifier="acme:run-7")

    with pytest.raises(stripe.InvalidRequestError) as exc:
        send(client, account, identifier="acme:run-7")
    assert exc.value.http_status == 400
    assert exc.value.code == "resource_already_exists"
    assert exc.value.param == "identifier"
    assert refusal(exc.value)["message"] == "An event already exists with identifier acme:run-7."
    assert exc.value.headers is not None
    assert exc.value.headers["stripe-should-retry"] == "false"
    assert len(fake.meter_events()) == 1


def test_identifier_may_be_reused_after_24_hours(
    client: stripe.StripeClient, fake: StripeFake, account: Account, clock: Clock
) -> None:
    send(client, account)
    clock.now += DAY

    send(client, account)
    assert [e["identifier"] for e in fake.meter_events()] == ["run-1", "run-1"]


def test_unknown_parameter_is_refused(client: stripe.StripeClient, account: Account) -> None:
    with pytest.raises(stripe.InvalidRequestError) as exc:
        send(client, account, value_seconds="5")
    assert exc.value.code == "parameter_unknown"
    assert exc.value.param == "value_seconds"


def test_idempotent_replay_returns_the_first_answer_without_acting_again(
    client: stripe.StripeClient, fake: StripeFake, account: Account
) -> None:
    first = send(client, account, options={"idempotency_key": "push-1"})
    again = send(client, account, options={"idempotency_key": "push-1"})

    assert again.to_dict() == first.to_dict()
    assert again.last_response is not None
    assert again.last_response.headers["Idempotent-Replayed"] == "true"
    assert len(fake.meter_events()) == 1


def test_idempotency_key_reused_with_other_params_is_refused(
    client: stripe.StripeClient, fake: StripeFake, account: Account
) -> None:
    send(client, account, options={"idempotency_key": "push-1"})

    with pytest.raises(stripe.IdempotencyError):
        send(client, account, identifier="run-2", options={"idempotency_key": "push-1"})
    assert len(fake.meter_events()) == 1


def test_cancel_adjustment_marks_the_event_canceled_once(
    client: stripe.StripeClient, fake: StripeFake, account: Account
) -> None:
    send(client, account)
    params: Any = {"event_name": EVENT, "type": "cancel", "cancel": {"identifier": "run-1"}}

    adjustment = client.v1.billing.meter_event_adjustments.create(params=params)
    assert adjustment.object == "billing.meter_event_adjustment"
    assert fake.meter_events()[0]["canceled"] is True
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.billing.meter_event_adjustments.create(params=params)


def test_live_or_malformed_key_is_an_authentication_error(fake: StripeFake) -> None:
    with pytest.raises(stripe.AuthenticationError) as exc:
        make_client(fake, key="sk_live_abcdefgh1234").v1.customers.list()
    assert "Invalid API Key provided: sk_live_" in str(exc.value.user_message)
    assert make_client(fake, key="rk_test_restricted").v1.customers.list().data == []


def test_unknown_path_is_resource_missing_and_every_answer_has_a_request_id(
    fake: StripeFake,
) -> None:
    headers = {"Authorization": "Bearer sk_test_x"}
    answer = httpx.get(f"{fake.url}/v1/charges", headers=headers)
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "resource_missing"
    assert answer.headers["Request-Id"].startswith("req_")
    unauthorized = httpx.get(f"{fake.url}/v1/customers")
    assert unauthorized.status_code == 401
    assert unauthorized.headers["Request-Id"].startswith("req_")


def test_injected_500_records_nothing_and_raises_api_error(
    client: stripe.StripeClient, fake: StripeFake, account: Account
) -> None:
    fake.faults.push("500")

    with pytest.raises(stripe.APIError) as exc:
        send(client, account)
    assert exc.value.http_status == 500
    assert refusal(exc.value)["type"] == "api_error"
    assert fake.meter_events() == []


def test_injected_429_records_nothing_and_raises_rate_limit_error(
    client: stripe.StripeClient, fake: StripeFake, account: Account
) -> None:
    fake.faults.push("429")

    with pytest.raises(stripe.RateLimitError) as exc:
        send(client, account)
    assert exc.value.headers is not None
    assert exc.value.headers["stripe-should-retry"] == "true"
    assert fake.meter_events() == []


def test_timeout_after_record_keeps_the_event_though_the_client_gets_an_error(
    fake: StripeFake, account: Account
) -> None:
    fake.faults.configure(timeout_seconds=0.5, queue=["timeout_after_record"])

    with pytest.raises(stripe.APIConnectionError):
        send(make_client(fake, timeout=0.2), account)
    assert [e["identifier"] for e in fake.meter_events()] == ["run-1"]


def test_drop_after_record_keeps_the_event_though_the_connection_closes(
    client: stripe.StripeClient, fake: StripeFake, account: Account
) -> None:
    fake.faults.push("drop_after_record")

    with pytest.raises(stripe.APIConnectionError):
        send(client, account)
    assert len(fake.meter_events()) == 1


def test_sdk_retry_after_a_lost_answer_is_replayed_not_recorded_twice(
    fake: StripeFake, account: Account
) -> None:
    fake.faults.configure(timeout_seconds=0.5)
    fake.faults.push("drop_after_record", "500", "429")

    event = send(make_client(fake, retries=3), account)
    assert event.identifier == "run-1"
    assert len(fake.meter_events()) == 1
    statuses = [(r["status"], r["fault"]) for r in fake.request_log if r["path"].endswith("events")]
    assert statuses == [
        (200, "drop_after_record"),
        (500, "500"),
        (429, "429"),
        (200, None),
    ]


def test_error_rate_with_a_seed_is_reproducible(
    client: stripe.StripeClient, fake: StripeFake, account: Account
) -> None:
    def outcomes(round_: str) -> list[str]:
        fake.faults.configure(error_rate=0.5, seed=42, kinds=["500", "429"])
        seen = []
        for n in range(20):
            try:
                send(client, account, identifier=f"{round_}-{n}")
                seen.append("ok")
            except (stripe.APIError, stripe.RateLimitError) as exc:
                seen.append(str(exc.http_status))
        return seen

    first, second = outcomes("first"), outcomes("second")
    assert first == second
    assert {"ok", "500", "429"} <= set(first)
    assert sum(fake.faults.injected().values()) == 2 * (len(first) - first.count("ok"))


def test_faults_touch_only_the_configured_paths(
    client: stripe.StripeClient, fake: StripeFake, account: Account
) -> None:
    fake.faults.push("500")
    client.v1.customers.create(params={"name": "Unaffected"})
    assert fake.faults.snapshot()["queue"] == ["500"]

    fake.faults.configure(paths=["/v1/customers"])
    with pytest.raises(stripe.APIError):
        client.v1.customers.create(params={"name": "Affected"})


def test_latency_delays_every_answer(client: stripe.StripeClient, fake: StripeFake) -> None:
    fake.faults.configure(latency=0.2)

    started = time.monotonic()
    client.v1.customers.list()
    assert time.monotonic() - started >= 0.2


def test_http_control_surface_sets_reads_and_clears_faults(
    client: stripe.StripeClient, fake: StripeFake, account: Account
) -> None:
    control = f"{fake.url}/_fake/faults"
    answer = httpx.post(control, json={"queue": ["429"], "latency": 0.01})
    assert answer.status_code == 200
    assert answer.json()["queue"] == ["429"]
    assert httpx.post(control, json={"error_rate": 2}).status_code == 400
    assert httpx.post(control, json={"kinds": ["explode"]}).status_code == 400
    with pytest.raises(stripe.RateLimitError):
        send(client, account)

    assert httpx.delete(control).json()["latency"] == 0.0
    send(client, account)
    events = httpx.get(f"{fake.url}/_fake/meter_events").json()["data"]
    assert [e["identifier"] for e in events] == ["run-1"]


def test_reset_forgets_objects_events_and_faults(
    client: stripe.StripeClient, fake: StripeFake, account: Account
) -> None:
    send(client, account)
    fake.faults.push("500")

    fake.reset()
    assert fake.customers() == fake.meter_events() == fake.request_log == []
    assert fake.faults.snapshot()["queue"] == []
