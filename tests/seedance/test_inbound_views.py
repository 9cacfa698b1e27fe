"""The signed-webhook base: verified first, applied once, refusals counted, our failures 5xx."""

import hashlib
import hmac
import json
from typing import Any

import pytest
from django.urls import path
from rest_framework.request import Request
from rest_framework.test import APIClient

from seedance.inbound.views import Applied, Delivery, DeliveryRejected, SignedWebhookView
from seedance.models import InboundDelivery, RejectedDelivery, RejectedDeliveryCount, Tenant

SECRET = b"test-source-secret"
URL = "/hooks/test/"


class TenantMakingView(SignedWebhookView):
    """A source whose events create a tenant, so that 'applied' is visible in the database."""

    source = "test"

    def verify(self, request: Request) -> None:
        expected = hmac.new(SECRET, request.body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(request.headers.get("X-Signature", ""), expected):
            raise DeliveryRejected("invalid_signature", "Bad signature.", status=403)

    def parse(self, request: Request, **kwargs: Any) -> Delivery:
        try:
            event = json.loads(request.body)
            return Delivery(dedupe_key=event["id"], payload=event, event_type="tenant.made")
        except (ValueError, KeyError, TypeError) as exc:
            raise DeliveryRejected("malformed_event", "Unreadable event.") from exc

    def apply(self, delivery: Delivery, **kwargs: Any) -> Applied:
        slug = delivery.payload["slug"]
        Tenant.objects.create(slug=slug, name=slug)
        if delivery.payload.get("fail_after_write"):
            raise RuntimeError("our own failure, after a write")
        return Applied(InboundDelivery.Outcome.APPLIED, {"made": slug}, status=201)


urlpatterns = [path(URL.strip("/") + "/", TenantMakingView.as_view())]

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


def send(event: Any, *, signed: bool = True) -> Any:
    body = json.dumps(event).encode()
    headers = {"X-Signature": hmac.new(SECRET, body, hashlib.sha256).hexdigest()} if signed else {}
    client = APIClient(raise_request_exception=False)
    return client.post(URL, data=body, content_type="application/json", headers=headers)


def test_first_delivery_is_applied_and_recorded_with_its_outcome() -> None:
    response = send({"id": "evt_1", "slug": "made-once"})
    assert (response.status_code, response.json()) == (201, {"made": "made-once"})
    delivery = InboundDelivery.objects.get(source="test", dedupe_key="evt_1")
    assert (delivery.outcome, delivery.replays, delivery.event_type) == (
        "applied",
        0,
        "tenant.made",
    )


def test_replay_is_counted_answered_2xx_and_never_applied_again() -> None:
    event = {"id": "evt_1", "slug": "made-once"}
    send(event)
    replies = [send(event) for _ in range(2)]
    assert [reply.status_code for reply in replies] == [200, 200]
    assert replies[0].json() == {"received": True, "replay": True, "outcome": "applied"}
    assert Tenant.objects.filter(slug="made-once").count() == 1
    assert InboundDelivery.objects.get(dedupe_key="evt_1").replays == 2


def test_bad_signature_answers_the_sources_status_and_is_counted_not_recorded() -> None:
    response = send({"id": "evt_1", "slug": "forged"}, signed=False)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "invalid_signature"
    assert not Tenant.objects.filter(slug="forged").exists()
    assert not InboundDelivery.objects.exists()
    assert RejectedDeliveryCount.objects.get(source="test").count == 1
    kept = RejectedDelivery.objects.get(source="test")
    assert kept.reason == "invalid_signature"
    assert json.loads(kept.body) == {"id": "evt_1", "slug": "forged"}


def test_signed_but_unreadable_body_is_400_and_counted() -> None:
    response = send(["not", "an", "event"])
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_event"
    assert RejectedDelivery.objects.get().reason == "malformed_event"
    assert not InboundDelivery.objects.exists()


def test_our_failure_is_500_and_leaves_no_record_so_the_retry_applies() -> None:
    failing = {"id": "evt_retry", "slug": "half-written", "fail_after_write": True}
    assert send(failing).status_code == 500
    assert not InboundDelivery.objects.exists()
    assert not Tenant.objects.filter(slug="half-written").exists()
    assert not RejectedDeliveryCount.objects.exists()
    retried = {"id": "evt_retry", "slug": "half-written"}
    assert send(retried).status_code == 201
    assert InboundDelivery.objects.get(dedupe_key="evt_retry").outcome == "applied"
    assert Tenant.objects.filter(slug="half-written").count() == 1


def test_base_answers_only_post() -> None:
    assert APIClient().get(URL).status_code == 405
