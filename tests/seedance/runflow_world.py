"""The world a run lives in, in one process and moved only when a test says: the sandbox's
Runflow API (``seedance.sandbox.api``) behind ``httpx.MockTransport``, a queue holding the
tasks our code enqueues until a test runs them, and a media source to copy videos from.

Knowingly simpler than Runflow: its runs never move on their own (the sandbox is built with
schedules no test reaches); a test plays its engine with ``upstream_start`` and
``upstream_finish``, and its callbacks are posted by the test, not by the sandbox.
"""

import json
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from seedance.runflow.client import RunflowClient
from seedance.runflow.signing import REQUEST_ID_HEADER, SIGNATURE_HEADER, sign
from seedance.sandbox.api import Api
from seedance.sandbox.api import Request as SandboxRequest
from seedance.sandbox.callbacks import payload_for
from seedance.sandbox.engine import PRICES_PER_SECOND, Sandbox
from seedance.sandbox.store import TERMINAL, SandboxRun
from tests.conftest import CALLBACK_SECRET
from tests.factories import MP4_BYTES

Task = tuple[str, tuple[Any, ...]]
#: Longer than any test: the sandbox's own clock never moves a run.
NEVER = 10.0**9


class RunflowWorld:
    base_url = "http://runflow.test/v1"

    def __init__(self, cache_dir: Path) -> None:
        self.cache_dir = cache_dir
        self.sandbox: Sandbox | None = None
        self.enqueue: Callable[[Task], None] = lambda task: None

    def reset(self) -> None:
        """A Runflow with no runs, as each example starts."""
        self.close()
        self.sandbox = Sandbox(
            signing_secret=CALLBACK_SECRET,
            queued_seconds=NEVER,
            running_seconds=NEVER,
            callback_backoff_scale=0.01,
            callback_timeout=1.0,
            cache_dir=self.cache_dir,
            balance_cents=10**6,
        )
        self.api = Api(self.sandbox, api_keys=None)

    def close(self) -> None:
        if self.sandbox is not None:
            self.sandbox.close()
            self.sandbox = None

    # --- HTTP ----------------------------------------------------------------------------

    def client(self) -> RunflowClient:
        return RunflowClient(
            base_url=self.base_url,
            transport=httpx.MockTransport(self._handle),
            sleep=lambda seconds: None,
        )

    def _handle(self, request: httpx.Request) -> httpx.Response:
        reply = self.api.respond(
            SandboxRequest(
                method=request.method,
                path=request.url.path,
                query=dict(request.url.params),
                headers=request.headers,
                body=request.content,
            )
        )
        if reply.drop:
            raise httpx.ConnectError("the sandbox dropped the connection", request=request)
        return httpx.Response(
            reply.status,
            content=json.dumps(reply.body).encode(),
            headers={"Content-Type": "application/json", **reply.headers},
        )

    def fail_reads(self, count: int) -> None:
        """The next ``count`` GETs of a run, and as many listings, answer 503."""
        assert self.sandbox is not None
        self.sandbox.faults.set_global(get_errors=[503] * count, list_errors=[503] * count)

    def clear_faults(self) -> None:
        assert self.sandbox is not None
        self.sandbox.faults.clear()

    def patch(self, monkeypatch: pytest.MonkeyPatch, queue: Any) -> None:
        """Our code's Runflow client is this one; what it enqueues waits in ``enqueue``."""
        from seedance.services import callbacks, reconcile, status_sweep, submission

        for module in (callbacks, reconcile, status_sweep, submission):
            monkeypatch.setattr(module, "runflow_client", self.client)
        waits = {
            "enqueue_submit": queue.SUBMIT_RUN,
            "enqueue_copy": queue.COPY_OUTPUTS,
            "enqueue_refresh": queue.REFRESH_RUN,
        }
        for name, path in waits.items():
            monkeypatch.setattr(queue, name, self._enqueuer(path))
        monkeypatch.setattr(queue, "enqueue_status_sweep", self._enqueuer(queue.SWEEP_STATUSES))
        # Tenant webhooks are counted as recorded events; none is sent anywhere.
        monkeypatch.setattr(queue, "enqueue_webhook_delivery", lambda *args: None)

    def _enqueuer(self, path: str) -> Callable[..., None]:
        def enqueue(*args: Any) -> None:
            self.enqueue((path, tuple(str(arg) for arg in args)))

        return enqueue

    # --- Runflow's engine, played by the test --------------------------------------------

    def upstream(self, run_id: str) -> list[SandboxRun]:
        assert self.sandbox is not None
        return [run for run in self.sandbox.store.all() if run.client_ref == run_id]

    def in_progress(self) -> list[str]:
        """Our run ids whose run at Runflow has not ended."""
        assert self.sandbox is not None
        return sorted({str(run.client_ref) for run in self.sandbox.store.active()})

    def upstream_start(self, run_id: str) -> None:
        assert self.sandbox is not None
        with self.sandbox.store.lock:
            for run in self.upstream(run_id):
                if run.status_code == "queued":
                    run.status_code = "running"
                    run.started_at = datetime.now(UTC)

    def upstream_finish(
        self,
        run_id: str,
        status: str,
        *,
        url: str = "",
        nsfw_detected: bool | None = False,
    ) -> None:
        """End Runflow's runs for ours as its engine does (the sandbox's run object)."""
        assert self.sandbox is not None
        with self.sandbox.store.lock:
            for run in self.upstream(run_id):
                if run.terminal:
                    continue
                now = datetime.now(UTC)
                run.started_at = run.started_at or now
                run.completed_at = now
                run.status_code = status
                if status == "succeeded":
                    _succeed(run, url, nsfw_detected)
                else:
                    run.cost = "0"
                    run.failure_code = "CONTENT_POLICY" if status == "failed" else "CANCELED"
                    run.failure_message = f"The run {status} at Runflow."
                    run.failure_stage_code = "inference"
                    run.error = {"code": run.failure_code, "message": run.failure_message}

    def callback_body(self, run_id: str, status: str | None) -> dict[str, Any]:
        """What Runflow posts for our run: its own news when ``status`` is None, else a
        body claiming ``status`` (stale or contradicting). With no run at Runflow yet, one
        naming a run id Runflow never made, as a callback beating the create's answer."""
        runs = self.upstream(run_id)
        known = runs[0].to_json() if runs else _unknown_run(run_id)
        if status is None:
            status = known["status_code"] if known["status_code"] in TERMINAL else "running"
        if status == "running":
            return {
                **payload_for({**known, "status_code": "failed"}),
                "event": "run.running",
                "status": "running",
                "output": None,
                "completed_at": None,
            }
        return payload_for({**known, "status_code": status})


def _succeed(run: SandboxRun, url: str, nsfw_detected: bool | None) -> None:
    seconds = int(str(run.input.get("duration", "4")))
    resolution = str(run.input.get("resolution", "480p"))
    run.cost = str(PRICES_PER_SECOND[resolution] * seconds)
    run.output = {
        "outputs": [
            {
                "url": url,
                "type": "video/mp4",
                "width": 854,
                "height": 480,
                "duration": float(seconds),
                "has_audio": False,
            }
        ],
        "seed": 424242,
        "nsfw_detected": nsfw_detected,
        "timing": {"inference_ms": 1000},
    }


def _unknown_run(run_id: str) -> dict[str, Any]:
    now = datetime.now(UTC).isoformat()
    return {
        "id": str(uuid.uuid4()),
        "status_code": "running",
        "output": None,
        "duration_ms": None,
        "created_at": now,
        "completed_at": now,
        "metadata": {"seedance_run_id": run_id},
    }


def callback_headers(body: bytes) -> dict[str, str]:
    """The headers Runflow posts a callback body with: signed over the raw body."""
    return {SIGNATURE_HEADER: sign(body, CALLBACK_SECRET), REQUEST_ID_HEADER: "req_sm"}


class _Media(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if not self.path.startswith("/ok/"):
            self.send_response(404)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "video/mp4")
        self.send_header("Content-Length", str(len(MP4_BYTES)))
        self.end_headers()
        self.wfile.write(MP4_BYTES)

    def log_message(self, *args: Any) -> None:
        pass


class MediaSource:
    """Where Runflow's output URLs point: ``/ok/`` serves a video, anything else is 404."""

    def __init__(self) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Media)
        self.netloc = f"127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def url(self, run_id: str, fetchable: bool) -> str:
        return f"http://{self.netloc}/{'ok' if fetchable else 'gone'}/{run_id}.mp4"

    def __enter__(self) -> "MediaSource":
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
