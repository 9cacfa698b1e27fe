"""Meter events: refused at send time only for their shape, judged after the 200 otherwise."""

from decimal import Decimal

import pytest
import stripe

from billing.stripe_fake import StripeFake

from .conftest import DAY, EVENT, Account, Clock, send

pytestmark = pytest.mark.filterwarnings("ignore:Use 'content=<...>':DeprecationWarning")


def errors(fake: StripeFake) -> dict[str, str | None]:
    return {event["identifier"]: event["error"] for event in fake.meter_events()}


@pytest.mark.parametrize("value", ["abc", "", "1e3", "NaN"])
def test_non_numeric_value_is_accepted_then_judged_invalid(
    client: stripe.StripeClient, fake: StripeFake, account: Account, value: str
) -> None:
    event = send(client, account, value=value)

    assert event.identifier == "run-1"
    assert errors(fake) == {"run-1": "meter_event_invalid_value"}


def test_decimal_value_is_counted_exactly(
    client: stripe.StripeClient, fake: StripeFake, account: Account
) -> None:
    send(client, account, value="1.5", identifier="a")
    send(client, account, value="0.1", identifier="b")

    assert [e["value"] for e in fake.meter_events()] == [Decimal("1.5"), Decimal("0.1")]
    assert errors(fake) == {"a": None, "b": None}


def test_unknown_customer_is_accepted_then_reported_not_found(
    client: stripe.StripeClient, fake: StripeFake, account: Account
) -> None:
    send(client, account, customer="cus_nope")

    assert errors(fake) == {"run-1": "meter_event_customer_not_found"}


def test_deleted_customer_is_accepted_then_reported_not_found(
    client: stripe.StripeClient, fake: StripeFake, account: Account
) -> None:
    deleted = client.v1.customers.delete(account.customer)
    assert deleted.deleted is True

    send(client, account)
    assert errors(fake) == {"run-1": "meter_event_customer_not_found"}


def test_missing_customer_is_accepted_then_reported_undefined(
    client: stripe.StripeClient, fake: StripeFake, account: Account
) -> None:
    client.v1.billing.meter_events.create(
        params={"event_name": EVENT, "identifier": "x", "payload": {"value": "1"}}
    )

    assert errors(fake) == {"x": "meter_event_no_customer_defined"}


def test_unknown_event_name_is_accepted_then_reported_no_meter(
    client: stripe.StripeClient, fake: StripeFake, account: Account
) -> None:
    send(client, account, event_name="seedance_seconds_4k")

    assert errors(fake) == {"run-1": "no_meter"}


def test_event_for_a_deactivated_meter_is_reported_archived(
    client: stripe.StripeClient, fake: StripeFake, account: Account
) -> None:
    client.v1.billing.meters.deactivate(account.meter)

    send(client, account)
    assert errors(fake) == {"run-1": "archived_meter"}


def test_timestamp_outside_35_days_past_5_minutes_ahead_is_reported_later(
    client: stripe.StripeClient, fake: StripeFake, account: Account, clock: Clock
) -> None:
    now = int(clock.now)
    send(client, account, identifier="old", timestamp=now - 35 * DAY - 1)
    send(client, account, identifier="ahead", timestamp=now + 301)
    send(client, account, identifier="oldest", timestamp=now - 35 * DAY + 5)
    send(client, account, identifier="soonest", timestamp=now + 300)

    assert errors(fake) == {
        "old": "timestamp_too_far_in_past",
        "ahead": "timestamp_in_future",
        "oldest": None,
        "soonest": None,
    }


@pytest.mark.parametrize(
    ("params", "param", "code"),
    [
        ({"payload": {"value": "1"}}, "event_name", "parameter_missing"),
        ({"event_name": EVENT}, "payload", "parameter_missing"),
        (
            {"event_name": EVENT, "payload": {"value": "1"}, "timestamp": "soon"},
            "timestamp",
            "parameter_invalid_integer",
        ),
        (
            {"event_name": EVENT, "payload": {"value": "1"}, "identifier": "x" * 101},
            "identifier",
            None,
        ),
    ],
)
def test_only_the_request_shape_is_refused_at_send_time(
    client: stripe.StripeClient,
    fake: StripeFake,
    account: Account,
    params: dict[str, object],
    param: str,
    code: str | None,
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.billing.meter_events.create(params=params)  # type: ignore[arg-type]
    assert exc.value.param == param
    assert exc.value.code == code
    assert fake.meter_events() == []
