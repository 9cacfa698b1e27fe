"""Runflow callbacks: verified, matched to their own run, recorded as a wake-up; what
Runflow's GET then says is applied, once."""

import json
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from seedance.models import InboundDelivery, RejectedDelivery, RejectedDeliveryCount, Run
from seedance.runflow.client import RunflowClient
from seedance.services import callbacks as callback_service
from seedance.services.callbacks import run_refresh
from seedance.states import RunStatus
from tests.conftest import OLD_CALLBACK_SECRET
from tests.factories import callback_payload, make_run

Post = Callable[..., Any]


class Runflow:
    """Runflow's GET /v1/runs/{id} and list, over HTTP, answering what a test says."""

    def __init__(self) -> None:
        self.runs: dict[str, dict[str, Any]] = {}
        self.requests: list[httpx.Request] = []

    def says(self, payload: dict[str, Any], **overrides: Any) -> None:
        """Runflow's run object for a callback body (what its GET would answer)."""
        run = {key: value for key, value in payload.items() if key not in ("event", "run_id")}
        run.update(id=payload["run_id"], status_code=payload["status"], **overrides)
        run.pop("status", None)
        run.setdefault("client_ref", payload["metadata"]["seedance_run_id"])
        self.runs[run["id"]] = run

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path.endswith("/runs"):
            return httpx.Response(200, json={"items": list(self.runs.values())})
        run = self.runs.get(request.url.path.rsplit("/", 1)[-1])
        if run is None:
            return httpx.Response(404, json={"error": {"code": "NOT_FOUND"}})
        # Runflow's odd values (an infinite float) arrive as Python's json writes them.
        return httpx.Response(
            200, content=json.dumps(run).encode(), headers={"Content-Type": "application/json"}
        )


@pytest.fixture
def runflow(monkeypatch: pytest.MonkeyPatch) -> Runflow:
    fake = Runflow()
    monkeypatch.setattr(
        callback_service,
        "runflow_client",
        lambda: RunflowClient(transport=httpx.MockTransport(fake.handle), sleep=lambda _: None),
    )
    return fake


@pytest.fixture
def submitted_run(tenant: Any) -> Run:
    return make_run(tenant, provider_run_id=str(uuid.uuid4()), status=RunStatus.RUNNING)


@pytest.fixture
def deliver(post_callback: Post, runflow: Runflow) -> Post:
    """A callback Runflow's GET agrees with (unless told otherwise), then the refresh
    task it wakes (enqueued on commit, which these tests' transactions never reach)."""

    def post(run: Run, payload: dict[str, Any], *, says: dict[str, Any] | None = None) -> Any:
        runflow.says(says or payload)
        response = post_callback(run.pk, payload)
        run_refresh(run.pk)
        run.refresh_from_db()
        return response

    return post


def test_signed_callback_is_recorded_as_a_wake_up_and_changes_nothing_itself(
    submitted_run: Run, post_callback: Post, django_capture_on_commit_callbacks: Any
) -> None:
    from seedance.queue import REFRESH_RUN
    from tests.queue import queued_tasks

    with django_capture_on_commit_callbacks(execute=True):
        response = post_callback(
            submitted_run.pk, callback_payload("callback_succeeded", submitted_run)
        )
    assert response.status_code == 200
    assert response.json()["outcome"] == "woke"
    submitted_run.refresh_from_db()
    assert submitted_run.status == RunStatus.RUNNING
    assert submitted_run.outputs == []
    delivery = InboundDelivery.objects.get(source="runflow", subject=str(submitted_run.pk))
    assert delivery.outcome == InboundDelivery.Outcome.WOKE
    assert delivery.request_id == "req_test"
    assert delivery.object_id == submitted_run.provider_run_id
    assert delivery.event_type == "succeeded"
    refreshes = [t for t in queued_tasks() if t["func"] == REFRESH_RUN]
    assert [tuple(t["args"]) for t in refreshes].count((str(submitted_run.pk),)) == 1


def test_runflows_get_after_the_callback_finishes_the_run(
    submitted_run: Run, deliver: Post, runflow: Runflow
) -> None:
    response = deliver(submitted_run, callback_payload("callback_succeeded", submitted_run))
    assert response.status_code == 200
    assert submitted_run.status == RunStatus.SUCCEEDED
    assert submitted_run.outputs[0]["width"] == 1280
    assert submitted_run.result_seed == 424242
    assert submitted_run.nsfw_detected is False
    assert submitted_run.duration_ms == 45012
    assert submitted_run.recheck_at is None
    assert [r.url.path for r in runflow.requests] == [f"/v1/runs/{submitted_run.provider_run_id}"]


def test_contradicting_callback_is_not_applied_runflows_get_is(
    submitted_run: Run, deliver: Post
) -> None:
    real = callback_payload("callback_succeeded", submitted_run)
    contradiction = {**real, "event": "run.failed", "status": "failed", "output": None}
    deliver(submitted_run, contradiction, says=real)
    assert submitted_run.status == RunStatus.SUCCEEDED
    assert submitted_run.failure_code == ""
    assert submitted_run.outputs[0]["width"] == 1280


def test_outputs_come_from_runflows_get_never_from_the_callback_body(
    submitted_run: Run, deliver: Post
) -> None:
    real = callback_payload("callback_succeeded", submitted_run)
    forged = json.loads(json.dumps(real))
    forged["output"]["outputs"][0]["url"] = "http://169.254.169.254/latest/meta-data"
    deliver(submitted_run, forged, says=real)
    assert [o["url"] for o in submitted_run.outputs] == [real["output"]["outputs"][0]["url"]]


def test_failed_run_without_a_reason_fails_with_provider_failed(
    submitted_run: Run, deliver: Post
) -> None:
    deliver(submitted_run, callback_payload("callback_failed", submitted_run))
    assert submitted_run.status == RunStatus.FAILED
    assert submitted_run.failure_code == "provider_failed"
    assert submitted_run.outputs == []


def test_failure_reason_is_runflows_from_its_get(submitted_run: Run, deliver: Post) -> None:
    """The callback names no reason; Runflow's run object does, and that is recorded."""
    payload = callback_payload("callback_failed", submitted_run)
    says = {
        **payload,
        "error": {"code": "GENERATION_FAILED", "message": "The model could not render it."},
    }
    deliver(submitted_run, payload, says=says)
    assert submitted_run.failure_code == "GENERATION_FAILED"
    assert submitted_run.failure_message == "The model could not render it."


def test_success_without_a_video_is_a_failure_never_billed(
    submitted_run: Run, deliver: Post
) -> None:
    payload = callback_payload("callback_succeeded", submitted_run)
    payload["output"]["outputs"] = []
    deliver(submitted_run, payload)
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
    submitted_run: Run, deliver: Post, oddity: dict[str, Any]
) -> None:
    payload = callback_payload("callback_succeeded", submitted_run)
    if "metadata" in oddity:
        oddity["metadata"]["seedance_run_id"] = str(submitted_run.pk)
        oddity["metadata"]["note"] = "nul\x00byte"
    payload.update(oddity)
    payload["output"]["timing"] = {"inference_ms": float("inf")}
    assert deliver(submitted_run, payload).status_code == 200
    assert submitted_run.status == RunStatus.SUCCEEDED
    assert submitted_run.duration_ms in (None, 45012)
    assert submitted_run.completed_at is not None
    assert submitted_run.completed_at.utcoffset() is not None


def test_cancelled_spelling_means_canceled(submitted_run: Run, deliver: Post) -> None:
    payload = callback_payload(
        "callback_failed", submitted_run, event="run.cancelled", status="cancelled"
    )
    deliver(submitted_run, payload)
    assert submitted_run.status == RunStatus.CANCELED


def test_callback_signed_with_the_previous_secret_is_accepted_during_rotation(
    submitted_run: Run, post_callback: Post
) -> None:
    payload = callback_payload("callback_succeeded", submitted_run)
    response = post_callback(submitted_run.pk, payload, secret=OLD_CALLBACK_SECRET)
    assert response.status_code == 200
    assert InboundDelivery.objects.get().outcome == InboundDelivery.Outcome.WOKE


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
    tenant: Any, submitted_run: Run, post_callback: Post, django_capture_on_commit_callbacks: Any
) -> None:
    victim = make_run(tenant, provider_run_id=str(uuid.uuid4()), status=RunStatus.RUNNING)
    stolen = callback_payload("callback_failed", submitted_run)
    with django_capture_on_commit_callbacks() as woken:
        response = post_callback(victim.pk, stolen)
    assert woken == []
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


def test_callback_that_beats_the_create_answer_attaches_what_runflow_lists(
    tenant: Any, deliver: Post, runflow: Runflow
) -> None:
    """The body's run id is not attached as such: Runflow's list by client_ref is asked."""
    run = make_run(tenant)
    payload = callback_payload("callback_succeeded", run)
    assert deliver(run, payload).status_code == 200
    assert run.provider_run_id == payload["run_id"]
    assert run.status == RunStatus.SUCCEEDED
    assert runflow.requests[0].url.path == "/v1/runs"


def test_callback_naming_a_run_runflow_does_not_list_attaches_nothing(
    tenant: Any, post_callback: Post, runflow: Runflow
) -> None:
    run = make_run(tenant)
    assert post_callback(run.pk, callback_payload("callback_succeeded", run)).status_code == 200
    run_refresh(run.pk)
    run.refresh_from_db()
    assert (run.provider_run_id, run.status) == (None, RunStatus.QUEUED)


def test_duplicate_callback_is_applied_once(submitted_run: Run, deliver: Post) -> None:
    from seedance.signals import run_finished

    sent: list[Run] = []
    run_finished.connect(lambda sender, run, **kw: sent.append(run), weak=False, dispatch_uid="t")
    try:
        payload = callback_payload("callback_succeeded", submitted_run)
        for _ in range(3):
            assert deliver(submitted_run, payload).status_code == 200
    finally:
        run_finished.disconnect(dispatch_uid="t")
    assert len(sent) == 1
    delivery = InboundDelivery.objects.get(source="runflow", subject=str(submitted_run.pk))
    assert (delivery.outcome, delivery.replays) == (InboundDelivery.Outcome.WOKE, 2)


def test_same_news_in_another_body_is_recorded_as_a_duplicate_that_changed_nothing(
    submitted_run: Run, post_callback: Post, deliver: Post
) -> None:
    """Runflow may resend a status with a fresh timestamp: a new delivery, absorbed."""
    first = callback_payload("callback_succeeded", submitted_run)
    again = {**first, "completed_at": "2026-11-27T09:00:50Z"}
    deliver(submitted_run, first)
    response = post_callback(submitted_run.pk, again)
    assert response.status_code == 200
    assert response.json()["outcome"] == "duplicate"
    outcomes = InboundDelivery.objects.filter(subject=str(submitted_run.pk)).values_list(
        "outcome", flat=True
    )
    assert sorted(outcomes) == ["duplicate", "woke"]


def test_late_contradicting_callback_never_changes_a_terminal_run(
    submitted_run: Run, post_callback: Post, deliver: Post
) -> None:
    deliver(submitted_run, callback_payload("callback_succeeded", submitted_run))
    late = callback_payload("callback_failed", submitted_run)
    assert post_callback(submitted_run.pk, late).status_code == 200
    run_refresh(submitted_run.pk)
    submitted_run.refresh_from_db()
    assert submitted_run.status == RunStatus.SUCCEEDED
    assert submitted_run.failure_code == ""


def test_callback_view_answers_only_post(submitted_run: Run) -> None:
    from rest_framework.test import APIClient

    assert APIClient().get(f"/hooks/runflow/runs/{submitted_run.pk}/").status_code == 405


def test_replayed_body_is_200_with_the_runs_status_and_counted(
    submitted_run: Run, post_callback: Post, deliver: Post
) -> None:
    payload = callback_payload("callback_succeeded", submitted_run)
    deliver(submitted_run, payload)
    replay = post_callback(submitted_run.pk, payload, request_id="req_retry")
    assert replay.status_code == 200
    assert replay.json() == {
        "received": True,
        "replay": True,
        "outcome": "woke",
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


def test_our_failure_while_recording_is_500_rolls_back_and_the_retry_wakes(
    submitted_run: Run, monkeypatch: pytest.MonkeyPatch, runflow: Runflow
) -> None:
    """Runflow retries a 5xx: the record must not claim a delivery we did not apply."""
    from rest_framework.test import APIClient

    from seedance import callbacks
    from seedance.runflow.signing import SIGNATURE_HEADER, sign
    from tests.conftest import CALLBACK_SECRET

    real_receive = callbacks.callback_receive

    def receive_then_fail(**kwargs: Any) -> Any:
        real_receive(**kwargs)
        raise RuntimeError("database went away after the recheck was booked")

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
    assert (submitted_run.status, submitted_run.recheck_at) == (RunStatus.RUNNING, None)
    assert not InboundDelivery.objects.exists()
    monkeypatch.setattr(callbacks, "callback_receive", real_receive)
    assert deliver().status_code == 200
    assert InboundDelivery.objects.get().outcome == InboundDelivery.Outcome.WOKE
    runflow.says(json.loads(body))
    run_refresh(submitted_run.pk)
    submitted_run.refresh_from_db()
    assert submitted_run.status == RunStatus.SUCCEEDED


def test_terminal_callback_runflow_does_not_confirm_yet_books_a_recheck(
    submitted_run: Run, deliver: Post, runflow: Runflow
) -> None:
    """Runflow's read can lag its callback: the run stays in progress and is asked again."""
    from datetime import timedelta

    from django.utils import timezone

    payload = callback_payload("callback_succeeded", submitted_run)
    before = timezone.now()
    deliver(submitted_run, payload, says={**payload, "status": "running", "output": None})
    assert submitted_run.status == RunStatus.RUNNING
    assert submitted_run.recheck_at is not None
    assert submitted_run.recheck_at >= before + timedelta(seconds=5)

    runflow.says(payload)
    run_refresh(submitted_run.pk)
    submitted_run.refresh_from_db()
    assert (submitted_run.status, submitted_run.recheck_at) == (RunStatus.SUCCEEDED, None)


def test_running_callback_books_no_recheck(submitted_run: Run, deliver: Post) -> None:
    payload = callback_payload("callback_succeeded", submitted_run)
    running = {**payload, "event": "run.running", "status": "running", "output": None}
    deliver(submitted_run, running)
    assert (submitted_run.status, submitted_run.recheck_at) == (RunStatus.RUNNING, None)


def test_runflow_unreachable_after_a_callback_keeps_the_recheck(
    submitted_run: Run, post_callback: Post, runflow: Runflow
) -> None:
    """No GET answer (here a 404 for an id Runflow does not show yet) drops nothing."""
    post_callback(submitted_run.pk, callback_payload("callback_succeeded", submitted_run))
    run_refresh(submitted_run.pk)
    submitted_run.refresh_from_db()
    assert submitted_run.status == RunStatus.RUNNING
    assert submitted_run.recheck_at is not None
