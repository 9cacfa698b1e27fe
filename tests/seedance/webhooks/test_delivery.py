"""Delivery to a tenant app: every attempt verifies with the standardwebhooks library,
retries until delivered, one run's events arrive in order, and failures disable."""

from datetime import timedelta
from email.utils import format_datetime
from typing import Any

import pytest
from django.utils import timezone

from seedance import dispatcher
from seedance.models import Run, WebhookAttempt, WebhookDelivery, WebhookEvent
from seedance.queue import DELIVER_WEBHOOK
from seedance.services.suspension import tenant_resume, tenant_suspend
from seedance.transitions import run_mark_running
from seedance.webhooks.delivery import INTERRUPTED
from seedance.webhooks.endpoints import webhook_endpoint_rotate_secret
from seedance.webhooks.events import webhook_event_record
from tests.factories import SYSTEM, finish_successfully, make_person, make_run
from tests.queue import queued_tasks
from tests.seedance.webhooks.conftest import (
    Answer,
    ReceiverServer,
    deliver_due,
    subscribe,
    time_passes,
)

Pending = WebhookDelivery.State.PENDING


def test_every_attempt_verifies_with_the_standardwebhooks_library(
    tenant: Any, receiver: ReceiverServer
) -> None:
    subscribe(tenant, receiver)
    run = finish_successfully(make_run(tenant, metadata={"order": 7}, end_user_id="u-1"))

    assert deliver_due() == ["delivered"]

    [received] = receiver.received
    assert received.verified_with is not None
    event = WebhookEvent.objects.get()
    assert received.headers["webhook-id"] == event.id
    payload = received.payload
    assert payload["type"] == "run.succeeded"
    assert payload["timestamp"] == event.created_at.isoformat().replace("+00:00", "Z")
    data = payload["data"]
    assert (data["id"], data["status"], data["metadata"], data["end_user_id"]) == (
        str(run.pk),
        "succeeded",
        {"order": 7},
        "u-1",
    )
    [output] = data["output"]["outputs"]
    assert output["url"].startswith("http://testserver/")


def test_an_attempt_half_an_hour_after_its_event_is_signed_when_sent(
    tenant: Any, receiver: ReceiverServer
) -> None:
    subscribe(tenant, receiver, ["usage.cap.warning"])
    event = webhook_event_record(tenant, "usage.cap.warning", data={"percent": 80})
    assert event is not None
    half_an_hour_ago = timezone.now() - timedelta(minutes=30)
    WebhookEvent.objects.filter(pk=event.pk).update(created_at=half_an_hour_ago)

    assert deliver_due() == ["delivered"]

    [received] = receiver.received
    assert received.verified_with is not None
    assert received.payload["data"] == {"percent": 80}
    # The event's time rides in the body; the signed timestamp is the attempt's own.
    assert received.payload["timestamp"].startswith(half_an_hour_ago.strftime("%Y-%m-%dT%H:%M"))
    assert int(received.headers["webhook-timestamp"]) >= int(timezone.now().timestamp()) - 60


def test_during_a_rotation_both_secrets_verify_and_after_it_only_the_new(
    tenant: Any, receiver: ReceiverServer, settings: Any
) -> None:
    endpoint = subscribe(tenant, receiver, ["webhook.test", "usage.cap.reached"])
    old_secret = receiver.secrets[0]
    rotated = webhook_endpoint_rotate_secret(endpoint)
    assert rotated.secret != old_secret

    webhook_event_record(tenant, "usage.cap.reached", data={"n": 1})
    deliver_due()
    [during] = receiver.received
    signatures = during.headers["webhook-signature"].split(" ")
    assert len(signatures) == 2
    receiver.secrets[:] = [old_secret]  # an app not yet updated still verifies
    webhook_event_record(tenant, "usage.cap.reached", data={"n": 2})
    deliver_due()
    assert receiver.received[1].verified_with == old_secret

    # The overlap ends: only the new secret signs.
    endpoint.refresh_from_db()
    endpoint.previous_secret_expires_at = timezone.now() - timedelta(seconds=1)
    endpoint.save()
    webhook_event_record(tenant, "usage.cap.reached", data={"n": 3})
    deliver_due()
    after = receiver.received[2]
    assert after.verified_with is None
    assert len(after.headers["webhook-signature"].split(" ")) == 1
    receiver.secrets[:] = [rotated.secret]
    time_passes()
    deliver_due()
    assert receiver.received[3].verified_with == rotated.secret


def test_with_the_first_attempts_failing_every_event_arrives_once_and_in_order(
    tenant: Any, receiver: ReceiverServer
) -> None:
    subscribe(tenant, receiver)
    first = make_run(tenant)
    second = make_run(tenant)
    finish_successfully(first, nsfw_detected=True)  # held, then approved: 3 events
    from seedance.moderation import run_approve

    staff = make_person("mod", "mod@example.com")
    assert run_approve(run_id=first.pk, decided_by=staff)
    finish_successfully(second)
    receiver.answer_next(Answer(500), Answer(503), Answer(502), Answer(500))

    for _ in range(10):
        deliver_due()
        time_passes()

    assert WebhookDelivery.objects.filter(state=Pending).count() == 0
    assert len(receiver.handled) == len(set(receiver.handled)) == 4
    types = receiver.handled_types()
    assert [t for t, run_id in types if run_id == str(first.pk)] == [
        "run.moderation.held",
        "run.moderation.approved",
        "run.succeeded",
    ]
    assert [t for t, run_id in types if run_id == str(second.pk)] == ["run.succeeded"]
    # The log shows every attempt, failed ones with their status.
    log = list(
        WebhookAttempt.objects.order_by("sent_at", "pk").values_list("status_code", flat=True)
    )
    assert sorted(log, key=str) == sorted([500, 503, 502, 500, 200, 200, 200, 200], key=str)
    assert all(r.verified_with for r in receiver.received)


def test_a_later_event_of_a_run_waits_behind_an_earlier_failing_one(
    tenant: Any, receiver: ReceiverServer
) -> None:
    subscribe(tenant, receiver)
    run = make_run(tenant)
    finish_successfully(run, nsfw_detected=True)
    receiver.answer_next(Answer(500))
    assert deliver_due() == ["retrying"]  # held failed

    from seedance.moderation import run_approve

    assert run_approve(run_id=run.pk, decided_by=make_person("m", "m@example.com"))
    WebhookDelivery.objects.filter(state=Pending).update(next_attempt_at=timezone.now())
    # approved and succeeded are due by time, but wait behind held.
    [only] = deliver_due()
    assert only == "delivered"
    assert [r.payload["type"] for r in receiver.received] == [
        "run.moderation.held",
        "run.moderation.held",
    ]
    assert deliver_due() == ["delivered"]
    assert deliver_due() == ["delivered"]
    assert receiver.handled_types() == [
        ("run.moderation.held", str(run.pk)),
        ("run.moderation.approved", str(run.pk)),
        ("run.succeeded", str(run.pk)),
    ]


def test_retries_follow_the_schedule_then_the_delivery_gives_up(
    tenant: Any, receiver: ReceiverServer, settings: Any
) -> None:
    settings.SEEDANCE = {**settings.SEEDANCE, "WEBHOOK_RETRY_SCHEDULE_SECONDS": [5, 300]}
    subscribe(tenant, receiver, ["usage.cap.warning"])
    webhook_event_record(tenant, "usage.cap.warning", data={})
    receiver.answer_next(Answer(500), Answer(500), Answer(500))

    now = timezone.now()
    assert deliver_due(now) == ["retrying"]
    delivery = WebhookDelivery.objects.get()
    assert delivery.next_attempt_at == now + timedelta(seconds=5)
    time_passes()
    now = timezone.now()
    assert deliver_due(now) == ["retrying"]
    assert WebhookDelivery.objects.get().next_attempt_at == now + timedelta(seconds=300)
    time_passes()
    assert deliver_due() == ["failed"]
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.last_status) == ("failed", 3, 500)
    assert delivery.next_attempt_at is None


@pytest.mark.parametrize("header", ["120", "http-date"])
def test_retry_after_is_honoured(tenant: Any, receiver: ReceiverServer, header: str) -> None:
    subscribe(tenant, receiver, ["usage.cap.warning"])
    webhook_event_record(tenant, "usage.cap.warning", data={})
    now = timezone.now()
    value = "120" if header == "120" else format_datetime(now + timedelta(seconds=120), usegmt=True)
    receiver.answer_next(Answer(429, headers={"Retry-After": value}))

    assert deliver_due(now) == ["retrying"]

    due = WebhookDelivery.objects.get().next_attempt_at
    assert due is not None
    assert timedelta(seconds=118) <= due - now <= timedelta(seconds=121)


def test_a_suspended_tenants_deliveries_pause_and_resume_with_it(
    tenant: Any, receiver: ReceiverServer
) -> None:
    subscribe(tenant, receiver, ["usage.cap.warning"])
    webhook_event_record(tenant, "usage.cap.warning", data={})
    tenant_suspend(tenant=tenant, actor=SYSTEM, reason="unpaid", notice="")

    assert deliver_due() == []
    assert receiver.received == []
    tenant_resume(tenant=tenant, actor=SYSTEM, reason="paid")
    assert deliver_due() == ["delivered"]


def test_a_suspension_after_the_claim_is_checked_when_sending(
    tenant: Any, receiver: ReceiverServer
) -> None:
    from seedance.webhooks.delivery import deliveries_claim_due, delivery_attempt

    subscribe(tenant, receiver, ["usage.cap.warning"])
    webhook_event_record(tenant, "usage.cap.warning", data={})
    [(delivery_id, lease)] = deliveries_claim_due(timezone.now())
    tenant_suspend(tenant=tenant, actor=SYSTEM, reason="unpaid", notice="")

    assert delivery_attempt(delivery_id, lease) == "skipped"
    delivery = WebhookDelivery.objects.get()
    assert (delivery.state, delivery.attempts, receiver.received) == ("pending", 0, [])
    tenant_resume(tenant=tenant, actor=SYSTEM, reason="paid")
    assert deliver_due() == ["delivered"]


def test_the_dispatcher_enqueues_each_due_delivery_once_with_its_lease(
    tenant: Any, receiver: ReceiverServer
) -> None:
    subscribe(tenant, receiver, ["usage.cap.warning"])
    webhook_event_record(tenant, "usage.cap.warning", data={})
    delivery = WebhookDelivery.objects.get()
    now = timezone.now()

    assert dispatcher.due_webhook_deliveries(now) == 1
    assert dispatcher.due_webhook_deliveries(now) == 0
    [task] = [
        t for t in queued_tasks() if t["func"] == DELIVER_WEBHOOK and t["args"][0] == delivery.pk
    ]
    delivery.refresh_from_db()
    assert task["args"][1] == delivery.next_attempt_at.isoformat()

    from seedance.tasks import deliver_webhook

    assert deliver_webhook(*task["args"]) == "delivered"
    assert deliver_webhook(*task["args"]) == "skipped"  # a duplicate task sends nothing
    assert len(receiver.received) == 1


def test_the_log_keeps_a_capped_response_body_and_the_latency(
    tenant: Any, receiver: ReceiverServer, settings: Any
) -> None:
    settings.SEEDANCE = {**settings.SEEDANCE, "WEBHOOK_RESPONSE_BODY_BYTES": 16}
    subscribe(tenant, receiver, ["usage.cap.warning"])
    webhook_event_record(tenant, "usage.cap.warning", data={})
    receiver.answer_next(Answer(500, body=b"x" * 5000, delay=0.05))

    deliver_due()

    [attempt] = WebhookAttempt.objects.all()
    assert (attempt.number, attempt.status_code, attempt.response_body) == (1, 500, "x" * 16)
    assert attempt.latency_ms >= 50
    assert attempt.error == ""


def test_a_receiver_slower_than_the_timeout_is_a_failed_attempt(
    tenant: Any, receiver: ReceiverServer, settings: Any
) -> None:
    settings.SEEDANCE = {**settings.SEEDANCE, "WEBHOOK_TIMEOUT_SECONDS": 0.6}
    subscribe(tenant, receiver, ["usage.cap.warning"])
    webhook_event_record(tenant, "usage.cap.warning", data={})
    receiver.answer_next(Answer(200, delay=1.5))

    assert deliver_due() == ["retrying"]

    [attempt] = WebhookAttempt.objects.all()
    assert attempt.status_code is None
    assert "Timeout" in attempt.error
    assert attempt.error != INTERRUPTED


def test_a_running_run_sends_nothing(tenant: Any, receiver: ReceiverServer) -> None:
    subscribe(tenant, receiver)
    run = make_run(tenant)
    assert run_mark_running(run.pk)
    assert Run.objects.get(pk=run.pk).status == "running"
    assert WebhookEvent.objects.count() == 0


def test_a_payload_that_cannot_be_built_fails_the_attempt_not_the_worker(
    tenant: Any, receiver: ReceiverServer, monkeypatch: Any
) -> None:
    from seedance.webhooks import delivery

    subscribe(tenant, receiver, ["usage.cap.warning"])
    webhook_event_record(tenant, "usage.cap.warning", data={})

    def broken(event: Any) -> str:
        raise LookupError("gone")

    monkeypatch.setattr(delivery, "event_body", broken)
    assert deliver_due() == ["retrying"]

    assert receiver.received == []
    assert "LookupError" in WebhookAttempt.objects.get().error
