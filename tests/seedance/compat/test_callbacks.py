"""A run's ``callback_url`` is called once, at its final state in Runflow's mapping, with
Runflow's payload signed Runflow's way: checked by a receiver written from Runflow's docs."""

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from seedance.compat.callbacks import callback_attempt, callbacks_claim_due
from seedance.models import CallbackDelivery, Run, Tenant
from seedance.moderation import run_approve, run_reject
from seedance.outcomes import Outcome
from seedance.services.suspension import tenant_resume, tenant_suspend
from seedance.states import RunStatus
from seedance.transitions import run_finish
from tests.factories import SYSTEM, deliver, finish_successfully
from tests.seedance.compat.receiver import CallbackReceiver

Delivered = CallbackDelivery.State


@pytest.fixture
def receiver(settings: Any) -> Iterator[CallbackReceiver]:
    receiver = CallbackReceiver().start()
    settings.SEEDANCE = {
        **settings.SEEDANCE,
        "OUTBOUND_LOOPBACK_HTTP": [receiver.netloc],
        "WEBHOOK_RETRY_SCHEDULE_SECONDS": [1, 1],
        "WEBHOOK_RETRY_JITTER": 0,
    }
    yield receiver
    receiver.stop()


def secret_made(api_client: APIClient) -> str:
    made = api_client.post(reverse("runflow_compat:callback-secrets"))
    assert made.status_code == 201
    return str(made.json()["secret"])


def created(api_client: APIClient, receiver: CallbackReceiver, prompt: str = "a fox") -> Run:
    response = api_client.post(
        reverse("runflow_compat:model-runs"),
        {"input": {"prompt": prompt}, "callback_url": receiver.url, "metadata": {"k": "v"}},
        format="json",
    )
    assert response.status_code == 201, response.content
    return Run.objects.get(pk=response.json()["id"])


def send_due(*, later: float = 0) -> list[str]:
    """What the dispatcher and the worker do in one tick: every due callback, once."""
    now = timezone.now() + timedelta(seconds=later)
    return [callback_attempt(pk, lease, now=now) for pk, lease in callbacks_claim_due(now)]


def test_a_succeeded_run_calls_back_once_signed_as_runflow_documents(
    api_client: APIClient, receiver: CallbackReceiver
) -> None:
    receiver.secrets = [secret_made(api_client)]
    run = created(api_client, receiver)
    assert send_due() == []  # nothing is final yet
    finish_successfully(run)
    assert send_due() == ["delivered"]
    assert send_due(later=3600) == []

    [callback] = receiver.received
    assert callback.verified
    assert callback.headers["content-type"] == "application/json"
    assert callback.headers["runflow-request-id"].startswith("req_")
    payload = callback.payload
    assert (payload["event"], payload["status"], payload["run_id"]) == (
        "run.completed",
        "succeeded",
        str(run.pk),
    )
    assert payload["output"]["outputs"][0]["url"].startswith("http")
    assert payload["metadata"] == {"k": "v"}
    assert payload["created_at"] < payload["completed_at"]


def test_a_held_video_calls_back_only_once_reviewed(
    api_client: APIClient, receiver: CallbackReceiver, admin_user: Any
) -> None:
    approved, rejected = created(api_client, receiver), created(api_client, receiver)
    for run in (approved, rejected):
        finish_successfully(run, nsfw_detected=True)
    assert send_due() == []
    run_approve(run_id=approved.pk, decided_by=admin_user)
    run_reject(run_id=rejected.pk, decided_by=admin_user, reason="not for us")
    assert sorted(send_due()) == ["delivered", "delivered"]
    by_run = {callback.payload["run_id"]: callback.payload for callback in receiver.received}
    assert by_run[str(approved.pk)]["status"] == "succeeded"
    assert by_run[str(rejected.pk)]["status"] == "failed"
    assert by_run[str(rejected.pk)]["output"] is None
    assert by_run[str(rejected.pk)]["error"]["code"] == "CONTENT_REJECTED"


def test_an_approval_before_the_copy_calls_back_when_the_copy_lands(
    api_client: APIClient, receiver: CallbackReceiver, admin_user: Any
) -> None:
    run = finish_successfully(created(api_client, receiver), nsfw_detected=True, delivered=False)
    run_approve(run_id=run.pk, decided_by=admin_user)
    assert send_due() == []
    deliver(run)
    assert send_due() == ["delivered"]
    assert receiver.received[0].payload["status"] == "succeeded"


@pytest.mark.parametrize(
    ("status", "event", "spelled"),
    [
        (RunStatus.FAILED, "run.failed", "failed"),
        (RunStatus.CANCELED, "run.cancelled", "cancelled"),
    ],
)
def test_failed_and_canceled_runs_call_back_in_the_model_pages_spelling(
    api_client: APIClient, receiver: CallbackReceiver, status: str, event: str, spelled: str
) -> None:
    run = created(api_client, receiver)
    run_finish(run.pk, Outcome(status=status, failure_code="x", failure_message="Why not."))
    assert send_due() == ["delivered"]
    payload = receiver.received[0].payload
    assert (payload["event"], payload["status"], payload["output"]) == (event, spelled, None)
    assert payload["error"]["message"] == "Why not."


def test_an_unanswered_callback_is_retried_with_the_same_request_id_then_given_up(
    api_client: APIClient, receiver: CallbackReceiver
) -> None:
    receiver.answers = [500, 503, 500]
    finish_successfully(created(api_client, receiver))
    assert send_due() == ["retrying"]
    assert send_due(later=2) == ["retrying"]
    assert send_due(later=4) == ["failed"]
    assert len({callback.headers["runflow-request-id"] for callback in receiver.received}) == 1
    assert CallbackDelivery.objects.get().state == Delivered.FAILED
    assert send_due(later=3600) == []


def test_a_new_secret_signs_from_then_on_and_a_revoked_one_signs_nothing(
    api_client: APIClient, receiver: CallbackReceiver
) -> None:
    first = secret_made(api_client)
    second = secret_made(api_client)
    receiver.secrets = [first]
    finish_successfully(created(api_client, receiver))
    send_due()
    receiver.secrets = [first, second]  # the rotation: the receiver holds both
    finish_successfully(created(api_client, receiver))
    send_due()
    assert [callback.verified for callback in receiver.received] == [False, True]

    listed = api_client.get(reverse("runflow_compat:callback-secrets")).json()["items"]
    assert [item["revoked_at"] is None for item in listed] == [True, False]
    assert all("secret" not in item for item in listed)
    revoked = api_client.delete(
        reverse("runflow_compat:callback-secret-detail", args=[listed[0]["id"]])
    )
    assert revoked.json()["revoked_at"] is not None
    receiver.secrets = []
    finish_successfully(created(api_client, receiver))
    send_due()
    assert "runflow-signature" not in receiver.received[-1].headers


def test_a_suspended_tenants_callback_waits_for_its_resumption(
    api_client: APIClient, receiver: CallbackReceiver, tenant: Tenant
) -> None:
    finish_successfully(created(api_client, receiver))
    tenant_suspend(tenant=tenant, actor=SYSTEM, reason="unpaid")
    assert send_due() == ["skipped"]
    tenant_resume(tenant=Tenant.objects.get(pk=tenant.pk), actor=SYSTEM, reason="paid")
    assert send_due() == ["delivered"]


def test_a_callback_url_the_outbound_guard_refuses_is_a_field_error_and_makes_no_run(
    api_client: APIClient,
) -> None:
    response = api_client.post(
        reverse("runflow_compat:model-runs"),
        {"input": {"prompt": "a fox"}, "callback_url": "http://10.0.0.7/hook"},
        format="json",
    )
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["field"] == "callback_url"
    assert not Run.objects.exists()


def test_a_run_without_a_callback_url_owes_no_callback(api_client: APIClient) -> None:
    response = api_client.post(
        reverse("runflow_compat:model-runs"), {"input": {"prompt": "a fox"}}, format="json"
    )
    finish_successfully(Run.objects.get(pk=response.json()["id"]))
    assert not CallbackDelivery.objects.exists()
