"""The Runflow sandbox over real HTTP: API shapes, lifecycle, media, callbacks and faults."""

import json
import re
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import imageio_ffmpeg
import pytest

from seedance.runflow.signing import REQUEST_ID_HEADER, SIGNATURE_HEADER, verify
from seedance.sandbox import SandboxServer

SECRET = "whsec_sandbox_test"
CREATE_PATH = "/models/bytedance/seedance/2.0/fast/text-to-video/runs"
LIVE_KEY = "rf_live_test_key"
SERVICE_KEY = "rf_svc_test_key"
SHORT = {"resolution": "480p", "duration": "4", "aspect_ratio": "16:9"}


class CallbackReceiver:
    """A tiny HTTP endpoint that records callbacks and answers scripted statuses."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.statuses: list[int] = []
        self._changed = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver._changed:
                    receiver.received.append((dict(self.headers.items()), body))
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                    receiver._changed.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}/hook"
        threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True).start()

    def wait(self, count: int, timeout: float = 5.0) -> list[tuple[dict[str, str], bytes]]:
        with self._changed:
            self._changed.wait_for(lambda: len(self.received) >= count, timeout)
            return list(self.received)

    def payloads(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _, body in self.received]

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@pytest.fixture(scope="session")
def media_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sandbox-media")


@pytest.fixture
def sandbox(media_cache: Path) -> Iterator[SandboxServer]:
    server = SandboxServer(
        signing_secret=SECRET,
        queued_seconds=0.05,
        running_seconds=0.15,
        callback_backoff_scale=0.01,
        cache_dir=media_cache,
    )
    with server:
        yield server


@pytest.fixture
def client(sandbox: SandboxServer) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {LIVE_KEY}"}
    with httpx.Client(base_url=sandbox.base_url, headers=headers, timeout=5) as http:
        yield http


@pytest.fixture
def receiver() -> Iterator[CallbackReceiver]:
    endpoint = CallbackReceiver()
    yield endpoint
    endpoint.close()


def create(client: httpx.Client, prompt: str = "a red fox", **fields: Any) -> httpx.Response:
    body: dict[str, Any] = {"input": {"prompt": prompt, **SHORT, **fields.pop("input", {})}}
    return client.post(CREATE_PATH, json={**body, **fields})


def probe(path: Path) -> str:
    """ffmpeg's description of a file (it exits non-zero without an output: only stderr matters)."""
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path)]
    return subprocess.run(command, capture_output=True, text=True, check=False).stderr


# API shapes


def test_create_with_bad_input_is_422_with_an_error_per_field(client: httpx.Client) -> None:
    body = {"input": {"prompt": " ", "duration": 5, "resolution": "1080p", "seed": "7"}}
    response = client.post(CREATE_PATH, json={**body, "client_ref": "x" * 256})

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/json"
    answer = response.json()
    assert answer["code"] == "VALIDATION_ERROR"
    assert answer["message"]
    fields = {error["field"] for error in answer["errors"]}
    assert fields == {
        "input.prompt",
        "input.duration",
        "input.resolution",
        "input.seed",
        "client_ref",
    }


@pytest.mark.parametrize(
    "header", [None, "Bearer sk_live_abc", "Bearer rf_live_bad-key", "rf_live_x"]
)
def test_request_without_a_valid_key_is_401(sandbox: SandboxServer, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    response = httpx.post(sandbox.base_url + CREATE_PATH, json={}, headers=headers)

    assert response.status_code == 401
    assert response.json()["code"] == "UNAUTHORIZED"


def test_explicit_api_keys_replace_the_key_format_rule(media_cache: Path) -> None:
    with SandboxServer(api_keys=["rf_live_only"], cache_dir=media_cache) as server:
        url = server.base_url + "/runs"
        allowed = httpx.get(url, headers={"Authorization": "Bearer rf_live_only"})
        refused = httpx.get(url, headers={"Authorization": "Bearer rf_live_other"})

    assert (allowed.status_code, refused.status_code) == (200, 401)


def test_invalid_json_is_400(client: httpx.Client) -> None:
    response = client.post(CREATE_PATH, content=b"{not json")

    assert response.status_code == 400
    assert response.json()["code"] == "INVALID_REQUEST"


def test_unknown_model_is_404(client: httpx.Client) -> None:
    response = client.post("/models/acme/other/runs", json={"input": {"prompt": "x"}})

    assert response.status_code == 404
    assert response.json()["code"] == "MODEL_NOT_FOUND"


def test_unknown_run_is_404_run_not_found(client: httpx.Client) -> None:
    response = client.get(f"/runs/{uuid.uuid4()}")

    assert response.status_code == 404
    assert response.json()["code"] == "RUN_NOT_FOUND"


def test_health_statuses_and_balance_answer(client: httpx.Client, sandbox: SandboxServer) -> None:
    assert httpx.get(sandbox.base_url + "/health").json() == {"status": "ok"}
    codes = {item["code"] for item in client.get("/runs/statuses").json()["items"]}
    assert {"queued", "running", "succeeded", "failed", "canceled"} <= codes
    balance = client.get("/billing/balance").json()
    assert balance["currency"] == "usd"
    assert isinstance(balance["balance_cents"], int)


# Lifecycle, callbacks, media


def test_run_goes_queued_running_succeeded_and_sends_one_signed_callback(
    client: httpx.Client, sandbox: SandboxServer, receiver: CallbackReceiver
) -> None:
    created = create(client, callback_url=receiver.url, metadata={"ours": "r1"}, client_ref="r1")
    assert created.status_code == 201
    run = created.json()
    assert run["status_code"] == "queued"
    assert uuid.UUID(run["id"]).version == 4
    assert run["created_at"].endswith("+00:00")
    assert run["output"] is None
    assert run["cost"] is None

    seen = set()
    deadline = time.monotonic() + 5
    while "succeeded" not in seen and time.monotonic() < deadline:
        seen.add(client.get(f"/runs/{run['id']}").json()["status_code"])
        time.sleep(0.01)
    assert seen >= {"running", "succeeded"}

    [(headers, body)] = receiver.wait(1)
    assert verify(body, headers[SIGNATURE_HEADER], [SECRET])
    assert headers[REQUEST_ID_HEADER]
    done = client.get(f"/runs/{run['id']}").json()
    payload = json.loads(body)
    assert payload == {
        "event": "run.completed",
        "run_id": run["id"],
        "status": "succeeded",
        "output": done["output"],
        "duration_ms": done["duration_ms"],
        "created_at": done["created_at"],
        "completed_at": done["completed_at"],
        "metadata": {"ours": "r1"},
    }
    assert done["cost"] == "0.432000"
    assert done["started_at"] < done["completed_at"]
    [output] = done["output"]["outputs"]
    assert output["type"] == "video/mp4"
    assert (output["width"], output["height"], output["duration"]) == (854, 480, 4.0)
    assert output["url"].startswith(sandbox.url + "/media/")
    assert done["output"]["nsfw_detected"] is False
    assert isinstance(done["output"]["timing"]["inference_ms"], int)
    history = client.get(f"/runs/{run['id']}/callback").json()["items"]
    assert [(item["attempt"], item["status_code"]) for item in history] == [(1, 200)]


@pytest.mark.parametrize(
    ("aspect_ratio", "audio", "size"),
    [("9:16", True, "480x854"), ("auto", False, "854x480")],
)
def test_rendered_mp4_has_requested_size_duration_and_audio_only_when_asked(
    client: httpx.Client,
    sandbox: SandboxServer,
    tmp_path: Path,
    aspect_ratio: str,
    audio: bool,
    size: str,
) -> None:
    fields = {"aspect_ratio": aspect_ratio, "generate_audio": audio}
    run = sandbox.wait_for(create(client, input=fields).json()["id"])
    [output] = run["output"]["outputs"]
    video = tmp_path / "video.mp4"
    video.write_bytes(httpx.get(output["url"]).content)

    described = probe(video)
    match = re.search(r"Duration: (\d+):(\d+):([\d.]+)", described)
    assert match is not None
    hours, minutes, secs = match.groups()
    assert abs(int(hours) * 3600 + int(minutes) * 60 + float(secs) - 4.0) < 0.1
    assert re.search(rf"Video: h264.*yuv420p.*\b{size}\b", described)
    assert ("Audio: aac" in described) is audio
    assert f"{output['width']}x{output['height']}" == size
    assert output["has_audio"] is audio


def test_media_faults_fail_then_slow_one_runs_video_and_no_other(
    client: httpx.Client, sandbox: SandboxServer
) -> None:
    slow = sandbox.wait_for(create(client).json()["id"])
    other = sandbox.wait_for(create(client).json()["id"])
    sandbox.faults.set_for(slow["id"], media_errors=[404], media_delay=0.5)
    url = slow["output"]["outputs"][0]["url"]

    assert httpx.get(url).status_code == 404
    started = time.monotonic()
    assert httpx.get(url).status_code == 200
    assert time.monotonic() - started >= 0.5
    started = time.monotonic()
    assert httpx.get(other["output"]["outputs"][0]["url"]).status_code == 200
    assert time.monotonic() - started < 0.5


def test_media_range_request_answers_206_with_just_those_bytes(
    client: httpx.Client, sandbox: SandboxServer
) -> None:
    run = sandbox.wait_for(create(client).json()["id"])
    url = run["output"]["outputs"][0]["url"]
    whole = httpx.get(url)

    part = httpx.get(url, headers={"Range": "bytes=100-199"})
    beyond = httpx.get(url, headers={"Range": f"bytes={len(whole.content)}-"})

    assert whole.status_code == 200
    assert whole.headers["content-type"] == "video/mp4"
    assert whole.headers["accept-ranges"] == "bytes"
    assert part.status_code == 206
    assert part.headers["content-range"] == f"bytes 100-199/{len(whole.content)}"
    assert part.content == whole.content[100:200]
    assert beyond.status_code == 416


# Listing


def test_list_pages_newest_first_with_pq_and_limit(client: httpx.Client) -> None:
    ids = [create(client, client_ref=f"page-{n}").json()["id"] for n in range(5)]
    newest_first = ids[::-1]

    first = client.get("/runs", params={"limit": 2}).json()
    second = client.get("/runs", params={"limit": 2, "pq": first["next_pq"]}).json()
    third = client.get("/runs", params={"limit": 2, "pq": second["next_pq"]}).json()
    back = client.get("/runs", params={"limit": 2, "pq": second["prev_pq"]}).json()

    assert [run["id"] for run in first["items"]] == newest_first[:2]
    assert first["prev_pq"] is None
    assert [run["id"] for run in second["items"]] == newest_first[2:4]
    assert [run["id"] for run in third["items"]] == newest_first[4:]
    assert third["next_pq"] is None
    assert [run["id"] for run in back["items"]] == newest_first[:2]
    assert client.get("/runs", params={"limit": 501}).status_code == 422
    assert client.get("/runs", params={"pq": "garbage"}).status_code == 422


def test_list_filters_by_client_ref_and_created_at(client: httpx.Client) -> None:
    early = create(client, client_ref="early").json()
    time.sleep(0.01)
    late = create(client, client_ref="late").json()
    since = datetime.fromisoformat(early["created_at"]) + timedelta(microseconds=1)

    by_ref = client.get("/runs", params={"q": "client_ref:early"}).json()["items"]
    after = client.get("/runs", params={"q": f"created_at>{since.isoformat()}"}).json()["items"]
    before = client.get("/runs", params={"q": f"created_at<{since.isoformat()}"}).json()["items"]
    combined = client.get(
        "/runs", params={"q": f"status_code:queued AND created_at>{since.isoformat()}"}
    )

    assert [run["id"] for run in by_ref] == [early["id"]]
    assert [run["id"] for run in after] == [late["id"]]
    assert [run["id"] for run in before] == [early["id"]]
    assert combined.status_code == 200
    assert client.get("/runs", params={"q": "colour:blue"}).status_code == 422
    assert client.get("/runs", params={"q": "created_at>yesterday"}).status_code == 422


# Faults


@pytest.mark.parametrize("by", ["client_ref", "prompt"])
def test_fail_fault_ends_run_failed_with_error_and_a_failed_callback(
    client: httpx.Client, sandbox: SandboxServer, receiver: CallbackReceiver, by: str
) -> None:
    sandbox.faults.set_for("doomed", fail=True, failure_code="GENERATION_FAILED")
    client_ref, prompt = (
        ("doomed", "a cat") if by == "client_ref" else ("ok", "a cat [sandbox:fail]")
    )
    response = create(client, prompt, client_ref=client_ref, callback_url=receiver.url)
    run_id = response.json()["id"]

    run = sandbox.wait_for(run_id)
    [payload] = [json.loads(body) for _, body in receiver.wait(1)]

    assert run["status_code"] == "failed"
    assert run["failure_code"] == "GENERATION_FAILED"
    assert run["error"] == {"code": "GENERATION_FAILED", "message": run["failure_message"]}
    assert run["output"] is None
    assert run["cost"] in (None, "0")
    assert (payload["event"], payload["status"], payload["output"]) == (
        "run.failed",
        "failed",
        None,
    )


@pytest.mark.parametrize(
    ("directive", "expected"), [("[sandbox:nsfw_null]", None), ("[sandbox:nsfw]", True)]
)
def test_nsfw_directive_in_prompt_sets_nsfw_detected(
    client: httpx.Client, sandbox: SandboxServer, directive: str, expected: bool | None
) -> None:
    run = sandbox.wait_for(create(client, prompt=f"a beach {directive}").json()["id"])

    assert run["status_code"] == "succeeded"
    assert run["output"]["nsfw_detected"] is expected


def test_duplicate_callbacks_fault_delivers_copies_with_one_request_id(
    client: httpx.Client, sandbox: SandboxServer, receiver: CallbackReceiver
) -> None:
    sandbox.faults.set_global(duplicate_callbacks=3)
    create(client, callback_url=receiver.url)

    received = receiver.wait(3)
    time.sleep(0.1)

    assert len(receiver.received) == 3
    assert len({headers[REQUEST_ID_HEADER] for headers, _ in received}) == 1
    assert len({body for _, body in received}) == 1


def test_drop_callbacks_fault_delivers_nothing(
    client: httpx.Client, sandbox: SandboxServer, receiver: CallbackReceiver
) -> None:
    run_id = create(client, callback_url=receiver.url).json()["id"]
    sandbox.faults.set_for(run_id, drop_callbacks=True)

    assert sandbox.wait_for(run_id)["status_code"] == "succeeded"
    time.sleep(0.2)
    assert receiver.received == []
    assert sandbox.callback_log == []


def test_callback_retried_on_5xx_with_the_same_request_id(
    client: httpx.Client, sandbox: SandboxServer, receiver: CallbackReceiver
) -> None:
    receiver.statuses = [500, 503]
    run_id = create(client, callback_url=receiver.url).json()["id"]

    received = receiver.wait(3)
    time.sleep(0.05)
    history = client.get(f"/runs/{run_id}/callback").json()["items"]

    assert len({headers[REQUEST_ID_HEADER] for headers, _ in received}) == 1
    assert [(item["attempt"], item["status_code"]) for item in history] == [
        (1, 500),
        (2, 503),
        (3, 200),
    ]
    assert [entry["run_id"] for entry in sandbox.callback_log] == [run_id] * 3


def test_callback_given_up_after_three_attempts(
    client: httpx.Client, receiver: CallbackReceiver
) -> None:
    receiver.statuses = [500] * 5
    create(client, callback_url=receiver.url)

    receiver.wait(3)
    time.sleep(0.2)

    assert len(receiver.received) == 3


def test_out_of_order_fault_sends_a_contradicting_signed_callback_after_the_terminal_one(
    client: httpx.Client, sandbox: SandboxServer, receiver: CallbackReceiver
) -> None:
    sandbox.faults.set_global(out_of_order=True)
    create(client, callback_url=receiver.url)

    received = receiver.wait(2)
    first, second = (json.loads(body) for _, body in received)

    assert (first["status"], second["status"]) == ("succeeded", "failed")
    assert first["run_id"] == second["run_id"]
    assert all(verify(body, headers[SIGNATURE_HEADER], [SECRET]) for headers, body in received)


def test_create_refused_with_429_creates_no_run(
    client: httpx.Client, sandbox: SandboxServer
) -> None:
    sandbox.faults.set_for("busy", create_errors=[429, 503], retry_after=7)

    refused = create(client, client_ref="busy")
    unavailable = create(client, client_ref="busy")
    accepted = create(client, client_ref="busy")

    assert refused.status_code == 429
    assert refused.json()["code"] == "RATE_LIMITED"
    assert refused.headers["retry-after"] == "7"
    assert unavailable.status_code == 503
    assert accepted.status_code == 201
    assert sandbox.count_runs(client_ref="busy") == 1


def test_lost_create_answer_drop_still_creates_exactly_one_run(
    client: httpx.Client, sandbox: SandboxServer
) -> None:
    sandbox.faults.set_for("lost", lose_create_answer="drop")

    with pytest.raises(httpx.TransportError):
        create(client, client_ref="lost")

    assert sandbox.count_runs(client_ref="lost") == 1
    found = client.get("/runs", params={"q": "client_ref:lost"}).json()["items"]
    assert [run["id"] for run in found] == [run["id"] for run in sandbox.runs(client_ref="lost")]


def test_lost_create_answer_500_and_timeout_still_create_the_run(
    client: httpx.Client, sandbox: SandboxServer
) -> None:
    sandbox.faults.set_for("err", lose_create_answer="500")
    sandbox.faults.set_for("slow", lose_create_answer="timeout", lose_create_timeout=0.5)

    assert create(client, client_ref="err").status_code == 500
    with pytest.raises(httpx.ReadTimeout):
        client.post(
            CREATE_PATH,
            json={"input": {"prompt": "x", **SHORT}, "client_ref": "slow"},
            timeout=0.1,
        )

    assert sandbox.count_runs(client_ref="err") == 1
    assert sandbox.count_runs(client_ref="slow") == 1


def test_lost_create_answer_may_make_its_run_only_later(
    client: httpx.Client, sandbox: SandboxServer
) -> None:
    """Runflow's "the run may exist": still finishing the request whose answer was lost."""
    sandbox.faults.set_for("late", lose_create_answer="drop", lose_create_materialize_seconds=0.5)

    with pytest.raises(httpx.TransportError):
        create(client, client_ref="late")

    assert sandbox.count_runs(client_ref="late") == 0
    deadline = time.monotonic() + 5
    while sandbox.count_runs(client_ref="late") == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sandbox.count_runs(client_ref="late") == 1
    assert sandbox.wait_for(sandbox.runs(client_ref="late")[0]["id"])["status_code"] == "succeeded"


@pytest.mark.parametrize("mode", ["drop", "500", "timeout"])
def test_lost_create_answer_may_never_make_its_run(
    client: httpx.Client, sandbox: SandboxServer, mode: str
) -> None:
    """The request was lost before Runflow acted on it: the outcome was unknown, and is none."""
    sandbox.faults.set_for(
        "unmade", lose_create_answer=mode, lose_create_makes_run=False, lose_create_timeout=0.3
    )

    with pytest.raises(httpx.HTTPError):
        create(client, client_ref="unmade").raise_for_status()
    time.sleep(0.3)

    assert sandbox.count_runs(client_ref="unmade") == 0


def test_get_errors_fault_answers_each_queued_status_once(
    client: httpx.Client, sandbox: SandboxServer
) -> None:
    run_id = create(client).json()["id"]
    sandbox.faults.set_for(run_id, get_errors=[502])

    assert client.get(f"/runs/{run_id}").status_code == 502
    assert client.get(f"/runs/{run_id}").status_code == 200


def test_faults_set_over_http_apply_to_their_scope_until_deleted(
    client: httpx.Client, sandbox: SandboxServer
) -> None:
    control = sandbox.url + "/_sandbox/faults"
    assert httpx.post(control, json={"scope": "demo", "fail": True}).status_code == 200
    assert httpx.post(control, json={"scope": "global", "nsfw": "maybe"}).status_code == 422

    failed = sandbox.wait_for(create(client, client_ref="demo").json()["id"])
    other = sandbox.wait_for(create(client, client_ref="else").json()["id"])
    assert httpx.delete(control).json() == {}
    later = sandbox.wait_for(create(client, client_ref="demo").json()["id"])

    assert (failed["status_code"], other["status_code"]) == ("failed", "succeeded")
    assert later["status_code"] == "succeeded"


# Admin cancellation and redelivery


def test_cancellation_needs_a_service_key_and_cancels_only_a_live_run(
    client: httpx.Client, sandbox: SandboxServer, receiver: CallbackReceiver
) -> None:
    sandbox.faults.set_for("long", running_seconds=30)
    run_id = create(client, client_ref="long", callback_url=receiver.url).json()["id"]
    path = f"/admin/runs/{run_id}/cancellation"
    service = {"Authorization": f"Bearer {SERVICE_KEY}"}

    forbidden = client.post(path, json={"reason": "stop it"})
    short = client.post(path, json={"reason": "no"}, headers=service)
    canceled = client.post(path, json={"reason": "stop it"}, headers=service)
    again = client.post(path, json={"reason": "stop it"}, headers=service)
    [payload] = [json.loads(body) for _, body in receiver.wait(1)]

    assert forbidden.status_code == 403
    assert forbidden.json()["code"] == "PERMISSION_DENIED"
    assert short.status_code == 422
    assert canceled.status_code == 201
    assert canceled.json()["status_code"] == "canceled"
    assert canceled.json()["error"]["code"]
    assert again.status_code == 200
    assert again.json() == canceled.json()
    assert (payload["event"], payload["status"]) == ("run.cancelled", "cancelled")


def test_redelivery_resends_the_terminal_callback(
    client: httpx.Client, sandbox: SandboxServer, receiver: CallbackReceiver
) -> None:
    run_id = create(client, callback_url=receiver.url).json()["id"]
    receiver.wait(1)

    answer = client.post(f"/runs/{run_id}/callback-redeliveries")
    received = receiver.wait(2)

    assert answer.status_code == 202
    assert len(received) == 2
    assert json.loads(received[0][1]) == json.loads(received[1][1])


def test_silenced_runs_never_call_back_and_pending_deliveries_are_dropped(
    client: httpx.Client, sandbox: SandboxServer, receiver: CallbackReceiver
) -> None:
    sandbox.faults.set_global(callback_delay=0.3)
    before = create(client, callback_url=receiver.url).json()["id"]
    sandbox.wait_for(before)  # finished: its callback is scheduled, not yet sent
    running = create(client, callback_url=receiver.url).json()["id"]

    sandbox.sandbox.silence_callbacks()
    sandbox.wait_for(running)
    time.sleep(0.6)
    assert receiver.received == []
    assert sandbox.callback_log == []

    after = create(client, callback_url=receiver.url).json()["id"]
    [(_, body)] = receiver.wait(1)
    assert json.loads(body)["run_id"] == after


def test_report_status_fault_renames_a_run_in_progress_in_get_and_list(
    client: httpx.Client, sandbox: SandboxServer
) -> None:
    run_id = create(client, client_ref="ref-unknown").json()["id"]
    sandbox.faults.set_for("ref-unknown", report_status="awaiting_capacity", running_seconds=60)

    assert client.get(f"/runs/{run_id}").json()["status_code"] == "awaiting_capacity"
    (listed,) = [item for item in client.get("/runs").json()["items"] if item["id"] == run_id]
    assert listed["status_code"] == "awaiting_capacity"
    statuses = [item["code"] for item in client.get("/runs/statuses").json()["items"]]
    assert "awaiting_capacity" not in statuses


def test_report_status_fault_leaves_a_finished_run_as_it_ended(
    client: httpx.Client, sandbox: SandboxServer
) -> None:
    run_id = create(client, client_ref="ref-finished").json()["id"]
    sandbox.faults.set_for("ref-finished", report_status="errored")
    sandbox.wait_for(run_id, "succeeded")
    assert client.get(f"/runs/{run_id}").json()["status_code"] == "succeeded"


def test_list_errors_fault_refuses_the_run_list_once_per_queued_status(
    client: httpx.Client, sandbox: SandboxServer
) -> None:
    sandbox.faults.set_global(list_errors=[422, 503])
    refused, unavailable, listed = (client.get("/runs") for _ in range(3))
    assert (refused.status_code, refused.json()["code"]) == (422, "VALIDATION_ERROR")
    assert unavailable.status_code == 503
    assert "Retry-After" in unavailable.headers
    assert listed.status_code == 200


# Bench mode


def test_bench_mode_serves_one_clip_for_every_run_and_renders_nothing_per_run(
    tmp_path: Path,
) -> None:
    server = SandboxServer(
        queued_seconds=0.01, running_seconds=0.02, cache_dir=tmp_path, one_clip=True
    )
    with (
        server,
        httpx.Client(
            base_url=server.base_url, headers={"Authorization": f"Bearer {LIVE_KEY}"}, timeout=5
        ) as http,
    ):
        asked = [
            {"resolution": "720p", "duration": "10", "aspect_ratio": "9:16"},
            {"resolution": "480p", "duration": "4", "aspect_ratio": "1:1", "generate_audio": False},
        ]
        ids = [create(http, input=fields).json()["id"] for fields in asked]
        runs = [server.wait_for(run_id, "succeeded", timeout=5) for run_id in ids]
        urls = {run["output"]["outputs"][0]["url"].split("?")[0] for run in runs}
        assert len(urls) == 1
        served = http.get(urls.pop())
    assert served.status_code == 200
    assert "160x90" in probe_bytes(tmp_path, served.content)
    assert [run["output"]["outputs"][0]["width"] for run in runs] == [720, 480]
    assert len(list(tmp_path.glob("*.mp4"))) == 1


def probe_bytes(directory: Path, content: bytes) -> str:
    path = directory / "served.bin"
    path.write_bytes(content)
    return probe(path)
