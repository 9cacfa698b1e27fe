"""Runflow callbacks: verified, matched to their own run, applied once."""

import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from seedance.models import InboundDelivery, RejectedDelivery, RejectedDeliveryCount, Run
from seedance.states import RunStatus
from tests.conftest import OLD_CALLBACK_SECRET
from tests.factories import callback_payload, make_run

Post = Callable[..., Any]


@pytest.fixture
def submitted_run(tenant: Any) -> Run:
    return make_run(tenant, provider_run_id=str(uuid.uuid4()), status=RunStatus.RUNNING)


def test_signed_callback_finishes_the_run(submitted_run: Run, post_callback: Post) -> None:
    response = post_callback(
        submitted_run.pk, callback_payload("callback_succeeded", submitted_run)
    )
    assert response.status_code == 200
    submitted_run.refresh_from_db()
    assert submitted_run.status == RunStatus.SUCCEEDED
    assert submitted_run.outputs[0]["width"] == 1280
    assert submitted_run.result_seed == 424242
    assert submitted_run.nsfw_detected is False
    assert submitted_run.duration_ms == 45012
    delivery = InboundDelivery.objects.get(source="runflow", subject=str(submitted_run.pk))
    assert delivery.outcome == InboundDelivery.Outcome.APPLIED
    assert delivery.request_id == "req_test"
    assert delivery.object_id == submitted_run.provider_run_id
    assert delivery.event_type == "succeeded"


def test_failed_callback_without_a_reason_fails_with_provider_failed(
    submitted_run: Run, post_callback: Post
) -> None:
    """Runflow's callback carries no reason; the reconciler reads it back later."""
    post_callback(submitted_run.pk, callback_payload("callback_failed", submitted_run))
    submitted_run.refresh_from_db()
    assert submitted_run.status == RunStatus.FAILED
    assert submitted_run.failure_code == "provider_failed"
    assert submitted_run.outputs == []


def test_failed_callback_with_an_error_object_keeps_runflows_reason(
    submitted_run: Run, post_callback: Post
) -> None:
    payload = callback_payload(
        "callback_failed",
        submitted_run,
        error={"code": "GENERATION_FAILED", "message": "The model could not render it."},
    )
    post_callback(submitted_run.pk, payload)
    submitted_run.refresh_from_db()
    assert submitted_run.failure_code == "GENERATION_FAILED"


def test_success_without_a_video_is_a_failure_never_billed(
    submitted_run: Run, post_callback: Post
) -> None:
    payload = callback_payload("callback_succeeded", submitted_run)
    payload["output"]["outputs"] = []
    post_callback(submitted_run.pk, payload)
    submitted_run.refresh_from_db()
    assert submitted_run.status == RunStatus.FAILED
    assert submitted_run.failure_code == "no_output"


@pytest.mark.parametrize(
    "oddity",
    [
        {"duration_ms": -1},
        {"duration_ms": 2**70},
        {"cost": "1e20"},
        {"cost": "NaN"},
        {"completed_at": "2026-11-27T09:00:45"},
        {"metadata": {"seedance_run_id": "REPLACED", "note": "nul\u0000byte"}},
    ],
    ids=["negative-ms", "huge-ms", "huge-cost", "nan-cost", "naive-time", "nul-in-json"],
)
def test_odd_values_from_runflow_are_stored_safely_never_a_500(
    submitted_run: Run, post_callback: Post, oddity: dict[str, Any]
) -> None:
    payload = callback_payload("callback_succeeded", submitted_run)
    if "metadata" in oddity:
        oddity["metadata"]["seedance_run_id"] = str(submitted_run.pk)
        oddity["metadata"]["note"] = "nul\x00byte"
    payload.update(oddity)
    payload["output"]["timing"] = {"inference_ms": float("inf")}
    assert post_callback(submitted_run.pk, payload).status_code == 200
    submitted_run.refresh_from_db()
    assert submitted_run.status == RunStatus.SUCCEEDED
    assert submitted_run.duration_ms in (None, 45012)
    assert submitted_run.completed_at is not None
    assert submitted_run.completed_at.utcoffset() is not None


def test_cancelled_spelling_means_canceled(submitted_run: Run, post_callback: Post) -> None:
    payload = callback_payload(
        "callback_failed", submitted_run, event="run.cancelled", status="cancelled"
    )
    post_callback(submitted_run.pk, payload)
    submitted_run.refresh_from_db()
    assert submitted_run.status == RunStatus.CANCELED


def test_callback_signed_with_the_previous_secret_is_accepted_during_rotation(
    submitted_run: Run, post_callback: Post
) -> None:
    payload = callback_payload("callback_succeeded", submitted_run)
    response = post_callback(submitted_run.pk, payload, secret=OLD_CALLBACK_SECRET)
    assert response.status_code == 200
    submitted_run.refresh_from_db()
    assert submitted_run.status == RunStatus.SUCCEEDED


@pytest.mark.parametrize(
    "signature_kwargs",
    [
        {"secret": "whsec_attacker"},
        {"secret": None},
        {"signature": "0" * 64},
        {"signature": "not-hex"},
        {"signature": ""},
    ],
    ids=["wrong-secret", "missing", "zeros", "garbage", "empty"],
)
def test_bad_or_missing_signature_is_401_and_changes_nothing(
    submitted_run: Run, post_callback: Post, signature_kwargs: dict[str, Any]
) -> None:
    payload = callback_payload("callback_succeeded", submitted_run)
    response = post_callback(submitted_run.pk, payload, **signature_kwargs)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_signature"
    submitted_run.refresh_from_db()
    assert submitted_run.status == RunStatus.RUNNING
    assert not InboundDelivery.objects.exists()
    assert RejectedDeliveryCount.objects.get(source="runflow").count == 1
    assert RejectedDelivery.objects.get(source="runflow").reason == "invalid_signature"


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[]", b'{"status": "succeeded"}', b'{"run_id": "x"}', b'{"run_id": 5}'],
    ids=["not-json", "list", "no-run-id", "no-status", "run-id-not-string"],
)
def test_malformed_signed_body_is_400(submitted_run: Run, body: bytes) -> None:
    from rest_framework.test import APIClient

    from seedance.runflow.signing import SIGNATURE_HEADER, sign
    from tests.conftest import CALLBACK_SECRET

    response = APIClient().post(
        f"/hooks/runflow/runs/{submitted_run.pk}/",
        data=body,
        content_type="application/json",
        headers={SIGNATURE_HEADER: sign(body, CALLBACK_SECRET)},
    )
    assert response.status_code == 400
    submitted_run.refresh_from_db()
    assert submitted_run.status == RunStatus.RUNNING


@pytest.mark.parametrize("run_id", ["0f7b8f1e-52a4-4c1e-8f0e-3d2b6c9a7e15", "not-a-uuid"])
def test_callback_for_an_unknown_run_is_404(
    submitted_run: Run, post_callback: Post, run_id: Any
) -> None:
    response = post_callback(run_id, callback_payload("callback_succeeded", submitted_run))
    assert response.status_code == 404


def test_callback_replayed_to_another_runs_url_changes_nothing(
    tenant: Any, submitted_run: Run, post_callback: Post
) -> None:
    victim = make_run(tenant, provider_run_id=str(uuid.uuid4()), status=RunStatus.RUNNING)
    stolen = callback_payload("callback_failed", submitted_run)
    response = post_callback(victim.pk, stolen)
    assert response.status_code == 409
    victim.refresh_from_db()
    assert victim.status == RunStatus.RUNNING
    delivery = InboundDelivery.objects.get(source="runflow", subject=str(victim.pk))
    assert delivery.outcome == InboundDelivery.Outcome.MISMATCH


def test_replay_to_a_run_still_awaiting_its_create_answer_changes_nothing(
    tenant: Any, submitted_run: Run, post_callback: Post
) -> None:
    waiting = make_run(tenant)
    stolen = callback_payload("callback_succeeded", submitted_run)
    assert post_callback(waiting.pk, stolen).status_code == 409
    waiting.refresh_from_db()
    assert waiting.provider_run_id is None
    assert waiting.status == RunStatus.QUEUED


def test_callback_that_beats_the_create_answer_attaches_and_applies(
    tenant: Any, post_callback: Post
) -> None:
    run = make_run(tenant)
    payload = callback_payload("callback_succeeded", run)
    assert post_callback(run.pk, payload).status_code == 200
    run.refresh_from_db()
    assert run.provider_run_id == payload["run_id"]
    assert run.status == RunStatus.SUCCEEDED


def test_duplicate_callback_is_applied_once(submitted_run: Run, post_callback: Post) -> None:
    from seedance.signals import run_finished

    sent: list[Run] = []
    run_finished.connect(lambda sender, run, **kw: sent.append(run), weak=False, dispatch_uid="t")
    try:
        payload = callback_payload("callback_succeeded", submitted_run)
        for _ in range(3):
            assert post_callback(submitted_run.pk, payload).status_code == 200
    finally:
        run_finished.disconnect(dispatch_uid="t")
    assert len(sent) == 1
    delivery = InboundDelivery.objects.get(source="runflow", subject=str(submitted_run.pk))
    assert (delivery.outcome, delivery.replays) == (InboundDelivery.Outcome.APPLIED, 2)


def test_same_news_in_another_body_is_recorded_as_a_duplicate_that_changed_nothing(
    submitted_run: Run, post_callback: Post
) -> None:
    """Runflow may resend a status with a fresh timestamp: a new delivery, absorbed."""
    first = callback_payload("callback_succeeded", submitted_run)
    again = {**first, "completed_at": "2026-11-27T09:00:50Z"}
    post_callback(submitted_run.pk, first)
    response = post_callback(submitted_run.pk, again)
    assert response.status_code == 200
    assert response.json()["outcome"] == "duplicate"
    outcomes = InboundDelivery.objects.filter(subject=str(submitted_run.pk)).values_list(
        "outcome", flat=True
    )
    assert sorted(outcomes) == ["applied", "duplicate"]


def test_late_contradicting_callback_never_changes_a_terminal_run(
    submitted_run: Run, post_callback: Post
) -> None:
    post_callback(submitted_run.pk, callback_payload("callback_succeeded", submitted_run))
    late = callback_payload("callback_failed", submitted_run)
    assert post_callback(submitted_run.pk, late).status_code == 200
    submitted_run.refresh_from_db()
    assert submitted_run.status == RunStatus.SUCCEEDED
    assert submitted_run.failure_code == ""


def test_callback_view_answers_only_post(submitted_run: Run) -> None:
    from rest_framework.test import APIClient

    assert APIClient().get(f"/hooks/runflow/runs/{submitted_run.pk}/").status_code == 405


def test_replayed_body_is_200_with_the_runs_status_and_counted(
    submitted_run: Run, post_callback: Post
) -> None:
    payload = callback_payload("callback_succeeded", submitted_run)
    post_callback(submitted_run.pk, payload)
    replay = post_callback(submitted_run.pk, payload, request_id="req_retry")
    assert replay.status_code == 200
    assert replay.json() == {
        "received": True,
        "replay": True,
        "outcome": "applied",
        "status": RunStatus.SUCCEEDED,
    }
    delivery = InboundDelivery.objects.get(subject=str(submitted_run.pk))
    assert (delivery.replays, delivery.request_id) == (1, "req_test")


def test_callback_for_an_unknown_run_is_counted_as_rejected(
    submitted_run: Run, post_callback: Post
) -> None:
    post_callback(uuid.uuid4(), callback_payload("callback_succeeded", submitted_run))
    assert RejectedDelivery.objects.get(source="runflow").reason == "not_found"
    assert not InboundDelivery.objects.exists()


def test_our_failure_while_applying_is_500_rolls_back_and_the_retry_applies(
    submitted_run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Runflow retries a 5xx: the record must not claim a delivery we did not apply."""
    from rest_framework.test import APIClient

    from seedance import callbacks
    from seedance.runflow.signing import SIGNATURE_HEADER, sign
    from tests.conftest import CALLBACK_SECRET

    real_receive = callbacks.callback_receive

    def receive_then_fail(**kwargs: Any) -> Any:
        real_receive(**kwargs)
        raise RuntimeError("database went away after the transition")

    body = json.dumps(callback_payload("callback_succeeded", submitted_run)).encode()
    client = APIClient(raise_request_exception=False)

    def deliver() -> Any:
        return client.post(
            f"/hooks/runflow/runs/{submitted_run.pk}/",
            data=body,
            content_type="application/json",
            headers={SIGNATURE_HEADER: sign(body, CALLBACK_SECRET)},
        )

    monkeypatch.setattr(callbacks, "callback_receive", receive_then_fail)
    assert deliver().status_code == 500
    submitted_run.refresh_from_db()
    assert submitted_run.status == RunStatus.RUNNING
    assert not InboundDelivery.objects.exists()
    monkeypatch.setattr(callbacks, "callback_receive", real_receive)
    assert deliver().status_code == 200
    submitted_run.refresh_from_db()
    assert submitted_run.status == RunStatus.SUCCEEDED
    assert InboundDelivery.objects.get().outcome == InboundDelivery.Outcome.APPLIED
