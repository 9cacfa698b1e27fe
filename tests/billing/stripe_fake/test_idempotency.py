"""Idempotency as Stripe keeps it: any answer of a request that began executing is saved."""

import pytest
import stripe

from billing.stripe_fake import StripeFake

from .conftest import DAY, Account, Clock, make_client, send

pytestmark = pytest.mark.filterwarnings("ignore:Use 'content=<...>':DeprecationWarning")


def test_500_after_start_is_saved_and_replayed_for_the_same_key(
    client: stripe.StripeClient, fake: StripeFake, account: Account
) -> None:
    fake.faults.push("500_after_start")
    with pytest.raises(stripe.APIError):
        send(client, account, options={"idempotency_key": "push-1"})

    with pytest.raises(stripe.APIError) as again:
        send(client, account, options={"idempotency_key": "push-1"})
    assert again.value.headers is not None
    assert again.value.headers["idempotent-replayed"] == "true"
    assert len(fake.meter_events()) == 1


def test_sdk_retries_of_a_saved_500_keep_getting_the_500(
    fake: StripeFake, account: Account
) -> None:
    fake.faults.push("500_after_start")

    with pytest.raises(stripe.APIError):
        send(make_client(fake, retries=2), account)
    assert len(fake.meter_events()) == 1
    statuses = [r["status"] for r in fake.request_log if r["path"].endswith("meter_events")]
    assert statuses == [500, 500, 500]


def test_500_before_start_is_not_saved_so_a_retry_runs(
    client: stripe.StripeClient, fake: StripeFake, account: Account
) -> None:
    fake.faults.push("500")
    with pytest.raises(stripe.APIError):
        send(client, account, options={"idempotency_key": "push-1"})

    event = send(client, account, options={"idempotency_key": "push-1"})
    assert event.last_response is not None
    assert "Idempotent-Replayed" not in event.last_response.headers
    assert len(fake.meter_events()) == 1


def test_validation_refusal_is_not_saved(
    client: stripe.StripeClient, fake: StripeFake, account: Account
) -> None:
    with pytest.raises(stripe.InvalidRequestError):
        send(client, account, timestamp="soon", options={"idempotency_key": "push-1"})

    with pytest.raises(stripe.InvalidRequestError) as again:
        send(client, account, timestamp="soon", options={"idempotency_key": "push-1"})
    assert again.value.headers is not None
    assert "idempotent-replayed" not in again.value.headers


def test_saved_answer_expires_after_24_hours_of_the_fakes_clock(
    client: stripe.StripeClient, fake: StripeFake, account: Account, clock: Clock
) -> None:
    send(client, account, identifier="a", options={"idempotency_key": "push-1"})
    clock.now += DAY

    event = send(client, account, identifier="b", options={"idempotency_key": "push-1"})
    assert event.identifier == "b"
