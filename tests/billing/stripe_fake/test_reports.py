"""Error reports arrive later as signed thin events, parsed and fetched with the real SDK."""

import json
import time

import httpx
import pytest
import stripe

from billing.stripe_fake import StripeFake

from .conftest import Account, Receiver, send

pytestmark = pytest.mark.filterwarnings("ignore:Use 'content=<...>':DeprecationWarning")

SECRET = "whsec_test_fake"


def test_invalid_events_are_reported_per_meter_in_one_signed_thin_event(
    client: stripe.StripeClient, fake: StripeFake, account: Account, receiver: Receiver
) -> None:
    fake.add_destination(receiver.url, SECRET, ["v1.billing.meter.error_report_triggered"])
    send(client, account, identifier="a", customer="cus_gone", options={"idempotency_key": "k-a"})
    send(client, account, identifier="b", customer="cus_gone")
    send(client, account, identifier="c", value="many")
    send(client, account, identifier="ok")

    fake.flush()
    [(body, header)] = receiver.received
    notification = client.parse_event_notification(body, header, SECRET)
    assert notification.type == "v1.billing.meter.error_report_triggered"
    assert "data" not in json.loads(body)
    meter = notification.fetch_related_object()  # type: ignore[union-attr]
    assert meter.id == account.meter
    event = notification.fetch_event()
    data = event.data  # type: ignore[attr-defined]
    assert data.reason.error_count == 3
    kinds = {t.code: t for t in data.reason.error_types}
    assert set(kinds) == {"meter_event_customer_not_found", "meter_event_invalid_value"}
    not_found = kinds["meter_event_customer_not_found"]
    assert not_found.error_count == 2
    samples = not_found.sample_errors
    # Stripe documents request.identifier as the request's idempotency key.
    assert samples[0].request.identifier == "k-a"
    assert len(samples) == 2
    assert data.validation_start <= data.validation_end


def test_unknown_event_name_is_reported_as_no_meter_found(
    client: stripe.StripeClient, fake: StripeFake, account: Account, receiver: Receiver
) -> None:
    fake.add_destination(receiver.url, SECRET)
    send(client, account, event_name="nobody_meters_this")

    fake.flush()
    [(body, header)] = receiver.received
    notification = client.parse_event_notification(body, header, SECRET)
    assert notification.type == "v1.billing.meter.no_meter_found"
    event = notification.fetch_event()
    [kind] = event.data.reason.error_types  # type: ignore[attr-defined]
    assert kind.code == "no_meter"


def test_report_waits_for_its_delay_then_the_background_delivers_it(
    client: stripe.StripeClient, fake: StripeFake, account: Account, receiver: Receiver
) -> None:
    fake.config.configure(report_delay_seconds=0.3)
    fake.store.now = time.time
    fake.add_destination(receiver.url, SECRET)
    send(client, account, customer="cus_gone")

    assert receiver.received == []
    deadline = time.monotonic() + 3
    while not receiver.received and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(receiver.received) == 1


def test_delivery_answered_non_2xx_is_retried_until_accepted(
    client: stripe.StripeClient, fake: StripeFake, account: Account, receiver: Receiver
) -> None:
    fake.add_destination(receiver.url, SECRET)
    receiver.status = 500
    send(client, account, customer="cus_gone")
    fake.flush()
    receiver.status = 200

    fake.flush()
    [delivery] = fake.deliveries()
    assert delivery["answers"] == [500, 200]
    assert delivery["status"] == "delivered"
    assert receiver.received[0][0] == receiver.received[1][0]


def test_wrong_secret_fails_the_sdks_signature_check(
    client: stripe.StripeClient, fake: StripeFake, account: Account, receiver: Receiver
) -> None:
    fake.add_destination(receiver.url, SECRET)
    send(client, account, customer="cus_gone")
    fake.flush()

    [(body, header)] = receiver.received
    with pytest.raises(stripe.SignatureVerificationError):
        client.parse_event_notification(body, header, "whsec_other")


def test_event_destination_is_created_through_the_v2_api_and_events_are_listed(
    client: stripe.StripeClient, fake: StripeFake, account: Account, receiver: Receiver
) -> None:
    destination = client.v2.core.event_destinations.create(
        params={
            "name": "billing",
            "type": "webhook_endpoint",
            "event_payload": "thin",
            "enabled_events": ["v1.billing.meter.error_report_triggered"],
            "webhook_endpoint": {"url": receiver.url},
            "include": ["webhook_endpoint.signing_secret"],
        }
    )
    assert destination.webhook_endpoint is not None
    secret = destination.webhook_endpoint.signing_secret
    assert secret is not None
    assert secret.startswith("whsec_")
    send(client, account, customer="cus_gone")
    fake.flush()

    [(body, header)] = receiver.received
    notification = client.parse_event_notification(body, header, secret)
    listed = client.v2.core.events.list(params={"object_id": account.meter})
    assert [e.id for e in listed.data] == [notification.id]


def test_http_controls_register_a_destination_and_flush(
    client: stripe.StripeClient, fake: StripeFake, account: Account, receiver: Receiver
) -> None:
    answer = httpx.post(
        f"{fake.url}/_fake/destinations", json={"url": receiver.url, "secret": SECRET}
    )
    assert answer.status_code == 200
    send(client, account, customer="cus_gone")

    assert httpx.post(f"{fake.url}/_fake/flush").json() == {"delivered": 1}
    assert len(receiver.received) == 1
