"""Stripe webhooks: verified with a 300 s tolerance; news of a subscription, whose state is
read from Stripe; each event once."""

import hashlib
import hmac
import json
import time
from typing import Any

import pytest
from rest_framework.test import APIClient

from billing.models import TenantBilling
from billing.provisioning import stripe_provision
from billing.stripe_client import stripe_client
from billing.stripe_fake import StripeFake
from seedance.models import InboundDelivery, RejectedDelivery, RejectedDeliveryCount
from tests.error_shape import assert_error_shape

SECRET = "whsec_stripe_current"
OLD_SECRET = "whsec_stripe_previous"
Status = TenantBilling.SubscriptionStatus


@pytest.fixture(autouse=True)
def _webhook_secrets(settings: Any) -> None:
    settings.BILLING = {**settings.BILLING, "STRIPE_WEBHOOK_SECRETS": [SECRET, OLD_SECRET]}


@pytest.fixture
def billing(tenant: Any, stripe_fake: StripeFake) -> TenantBilling:
    stripe_provision(client=stripe_client())
    return TenantBilling.objects.get(tenant=tenant)


def event(kind: str, *, created: int, event_id: str | None = None, **obj: Any) -> dict[str, Any]:
    return {
        "id": event_id or f"evt_{kind}_{created}",
        "object": "event",
        "type": kind,
        "created": created,
        "data": {"object": {"customer": "cus_acme", **obj}},
    }


def news_of(billing: TenantBilling, *, created: int = 1_000, **extra: Any) -> dict[str, Any]:
    """``customer.subscription.updated`` for the tenant's subscription: news, whose state
    the view reads from Stripe (the fake), not from this body."""
    return event(
        "customer.subscription.updated",
        created=created,
        id=billing.stripe_subscription_id,
        **extra,
    )


def post(
    payload: dict[str, Any],
    *,
    secret: str = SECRET,
    offset: int = 0,
    raise_request_exception: bool = True,
) -> Any:
    """POST ``payload`` signed as Stripe signs, timestamped ``offset`` seconds from now."""
    body = json.dumps(payload)
    timestamp = int(time.time()) + offset
    digest = hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256).hexdigest()
    return APIClient(raise_request_exception=raise_request_exception).post(
        "/hooks/stripe/",
        data=body,
        content_type="application/json",
        headers={"Stripe-Signature": f"t={timestamp},v1={digest}"},
    )


def status_of(billing: TenantBilling) -> str:
    billing.refresh_from_db()
    return billing.subscription_status


def test_subscription_news_sets_the_state_stripe_holds(
    billing: TenantBilling, stripe_fake: StripeFake
) -> None:
    stripe_fake.set_subscription_status(billing.stripe_subscription_id, "past_due")
    response = post(news_of(billing, status="active"))
    assert response.status_code == 200
    assert status_of(billing) == Status.PAST_DUE


@pytest.mark.parametrize(
    "sign",
    [
        {"secret": "whsec_attacker"},
        {"offset": -400},
        {"offset": 400},
    ],
    ids=["wrong-secret", "too-old", "too-far-ahead"],
)
def test_bad_signature_or_stale_timestamp_is_400_and_changes_nothing(
    billing: TenantBilling, stripe_fake: StripeFake, sign: dict[str, Any]
) -> None:
    stripe_fake.set_subscription_status(billing.stripe_subscription_id, "past_due")
    response = post(news_of(billing), **sign)
    assert response.status_code == 400
    assert status_of(billing) == Status.ACTIVE
    assert not InboundDelivery.objects.exists()
    assert RejectedDeliveryCount.objects.get(source="stripe").count == 1


def test_missing_signature_is_400_and_counted(billing: TenantBilling) -> None:
    response = APIClient().post("/hooks/stripe/", data="{}", content_type="application/json")
    assert response.status_code == 400
    assert RejectedDelivery.objects.get(source="stripe").message == "Missing Stripe-Signature."


def test_previous_secret_verifies_during_a_rotation(
    billing: TenantBilling, stripe_fake: StripeFake
) -> None:
    stripe_fake.set_subscription_status(billing.stripe_subscription_id, "past_due")
    assert post(news_of(billing), secret=OLD_SECRET).status_code == 200
    assert status_of(billing) == Status.PAST_DUE


def test_past_due_blocks_creates_when_enforced_and_active_again_lifts_it(
    billing: TenantBilling, stripe_fake: StripeFake, api_client: APIClient, settings: Any
) -> None:
    settings.BILLING = {**settings.BILLING, "ENFORCE_SUBSCRIPTION": True}
    run = {"prompt": "a tram in the rain", "duration": "4"}
    stripe_fake.set_subscription_status(billing.stripe_subscription_id, "past_due")
    post(news_of(billing, created=1_000))
    blocked = api_client.post("/api/v1/runs", run, format="json")
    assert blocked.status_code == 402
    assert blocked.json()["error"]["code"] == "subscription_past_due"
    stripe_fake.set_subscription_status(billing.stripe_subscription_id, "active")
    post(news_of(billing, created=1_100))
    assert status_of(billing) == Status.ACTIVE
    assert api_client.post("/api/v1/runs", run, format="json").status_code == 201


def test_invoice_events_never_change_the_state(billing: TenantBilling) -> None:
    failed = event("invoice.payment_failed", created=1_000, subscription="sub_1")
    assert post(failed).json()["applied"] is False
    assert status_of(billing) == Status.ACTIVE


def test_each_event_id_is_processed_once(billing: TenantBilling, stripe_fake: StripeFake) -> None:
    stripe_fake.set_subscription_status(billing.stripe_subscription_id, "unpaid")
    news = news_of(billing, event_id="evt_once")
    assert post(news).json()["applied"] is True
    TenantBilling.objects.filter(pk=billing.pk).update(subscription_status=Status.ACTIVE)
    assert post(news).json()["applied"] is False
    assert status_of(billing) == Status.ACTIVE
    delivery = InboundDelivery.objects.get(source="stripe", dedupe_key="evt_once")
    assert (delivery.outcome, delivery.replays) == (InboundDelivery.Outcome.APPLIED, 1)


def test_news_of_a_subscription_stripe_does_not_know_changes_nothing(
    billing: TenantBilling,
) -> None:
    stranger = event("customer.subscription.updated", created=1_000, id="sub_elsewhere")
    assert post(stranger).status_code == 200
    assert status_of(billing) == Status.ACTIVE


@pytest.mark.parametrize(
    "malformed",
    [
        {"id": "evt_x", "type": "invoice.paid"},
        {**event("invoice.paid", created=1_000), "id": "evt_" + "x" * 300},
        {**event("invoice.paid", created=1_000), "created": "yesterday"},
        {**event("invoice.paid", created=1_000), "data": {"object": []}},
    ],
    ids=["no-created", "id-too-long", "created-not-a-number", "object-not-an-object"],
)
def test_signed_but_malformed_event_is_400_and_counted(
    billing: TenantBilling, malformed: dict[str, Any]
) -> None:
    response = post(malformed)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_event"
    assert RejectedDelivery.objects.get(source="stripe").reason == "malformed_event"
    assert not InboundDelivery.objects.exists()


def test_replayed_event_is_200_and_recorded_as_a_replay(billing: TenantBilling) -> None:
    news = news_of(billing, event_id="evt_twice")
    post(news)
    assert post(news).json() == {"received": True, "applied": False, "replay": True}


def test_event_we_do_not_handle_is_recorded_as_ignored(billing: TenantBilling) -> None:
    assert post(event("charge.refunded", created=1_000, event_id="evt_other")).status_code == 200
    delivery = InboundDelivery.objects.get(dedupe_key="evt_other")
    assert (delivery.outcome, delivery.event_type) == ("ignored", "charge.refunded")


def test_our_failure_while_applying_is_500_rolls_back_and_the_retry_applies(
    billing: TenantBilling, stripe_fake: StripeFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    from billing import webhooks

    real_apply = webhooks.stripe_event_apply

    def apply_then_fail(event: dict[str, Any]) -> bool:
        real_apply(event)
        raise RuntimeError("database went away after the update")

    stripe_fake.set_subscription_status(billing.stripe_subscription_id, "past_due")
    failed = news_of(billing, event_id="evt_retry")
    monkeypatch.setattr(webhooks, "stripe_event_apply", apply_then_fail)
    assert post(failed, raise_request_exception=False).status_code == 500
    assert status_of(billing) == Status.ACTIVE
    assert not InboundDelivery.objects.exists()
    monkeypatch.setattr(webhooks, "stripe_event_apply", real_apply)
    assert post(failed).json()["applied"] is True
    assert status_of(billing) == Status.PAST_DUE


DEEP = "[" * 5000 + "]" * 5000


def post_raw(url: str, body: str, secret: str) -> Any:
    timestamp = int(time.time())
    digest = hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256).hexdigest()
    return APIClient().post(
        url,
        data=body,
        content_type="application/json",
        headers={"Stripe-Signature": f"t={timestamp},v1={digest}"},
    )


@pytest.mark.parametrize(
    "body",
    [
        DEEP,
        '{"id": "evt_1", "type": "x.y", "created": 1, "data": {"object": ' + DEEP + "}}",
    ],
    ids=["top-level", "in-the-object"],
)
def test_validly_signed_event_nested_5000_levels_is_a_400(db: None, body: str) -> None:
    response = post_raw("/hooks/stripe/", body, SECRET)
    assert_error_shape(response, 400, "malformed_body")
    assert not InboundDelivery.objects.exists()
    assert RejectedDelivery.objects.get(source="stripe").reason == "malformed_body"


@pytest.mark.parametrize(
    "body",
    [
        DEEP,
        '{"id": "evt_1", "object": "v2.core.event", "type": "x", "related_object": ' + DEEP + "}",
        '{"id": "evt_1", "type": "x.y"}',
        "[1, 2]",
    ],
    ids=["deep", "deep-in-a-field", "not-a-thin-event", "a-list"],
)
def test_validly_signed_thin_event_it_cannot_read_is_a_400(
    db: None, settings: Any, body: str
) -> None:
    settings.BILLING = {**settings.BILLING, "STRIPE_EVENT_SECRETS": [SECRET]}
    response = post_raw("/hooks/stripe/events/", body, SECRET)
    error = assert_error_shape(response, 400)
    assert error["code"] in {"malformed_body", "malformed_event"}
    assert not InboundDelivery.objects.exists()
    assert RejectedDelivery.objects.get(source="stripe-events").reason == error["code"]
