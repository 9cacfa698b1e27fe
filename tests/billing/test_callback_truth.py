"""A callback is a wake-up and Runflow's GET the truth, end to end: a contradicting
callback after the real one was lost to a web-tier outage ends succeeded, billed once and
delivered; a forged callback never makes us fetch the URL it names."""

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.http import HttpResponse

from billing.meters import push_pending_usage
from billing.models import TenantBilling, UsageRecord
from billing.provisioning import stripe_provision
from billing.stripe_client import stripe_client
from billing.stripe_fake import StripeFake
from seedance.callbacks import RunflowCallbackView
from seedance.models import Run
from seedance.outputs import outputs_copy
from seedance.run_input import RunInput
from seedance.sandbox import SandboxServer
from seedance.services.runs import run_create
from seedance.services.submission import run_submit
from seedance.states import Delivery, RunStatus
from tests.factories import callback_payload
from tests.fixtures.services import wait_for_run

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def provisioned(tenant: Any, stripe_fake: StripeFake, settings: Any) -> TenantBilling:
    settings.BILLING = {**settings.BILLING, "PUSH_MAX_BACKOFF_SECONDS": 0}
    stripe_provision(client=stripe_client())
    return TenantBilling.objects.get(tenant=tenant)


def create(tenant: Any) -> Run:
    run_input = RunInput(prompt="a lighthouse in fog", duration="4", resolution="480p")
    run, _ = run_create(tenant=tenant, run_input=run_input)
    return run


@pytest.fixture
def web_down_for(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Our callback endpoint answers 503, as a web tier behind its proxy does while down,
    for the next ``n`` requests; then it is back."""

    def down(n: int) -> list[int]:
        refused: list[int] = []
        real_post = RunflowCallbackView.post

        def post(self: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
            if len(refused) < n:
                refused.append(1)
                return HttpResponse(status=503)
            return real_post(self, request, *args, **kwargs)

        monkeypatch.setattr(RunflowCallbackView, "post", post)
        return refused

    return down


class Recorder(BaseHTTPRequestHandler):
    requests: list[str] = []

    def do_GET(self) -> None:
        self.requests.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "video/mp4")
        self.end_headers()
        self.wfile.write(b"\x00\x00\x00\x18ftypmp42")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[tuple[str, list[str]]]:
    """A local HTTP server that records every request it gets."""
    handler = type("Recording", (Recorder,), {"requests": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", handler.requests
    server.shutdown()
    server.server_close()


def deliveries(sandbox: SandboxServer, run: Run, count: int) -> list[tuple[str, int | None]]:
    """The sandbox's callback attempts for ``run`` (it logs each once its answer is in)."""
    deadline = time.monotonic() + 5
    while True:
        log = [
            (entry["event"], entry["status_code"])
            for entry in sandbox.callback_log
            if entry["run_id"] == run.provider_run_id
        ]
        if len(log) >= count or time.monotonic() > deadline:
            return log
        time.sleep(0.02)


def test_contradicting_callback_after_an_outage_ends_succeeded_billed_once_and_delivered(
    tenant: Any,
    sandbox: SandboxServer,
    provisioned: TenantBilling,
    stripe_fake: StripeFake,
    web_down_for: Any,
) -> None:
    run = create(tenant)
    sandbox.faults.set_for(str(run.pk), out_of_order="contradict")
    refused = web_down_for(3)  # the real outcome's three delivery attempts
    run_submit(run.pk)

    assert wait_for_run(run).status == RunStatus.SUCCEEDED
    assert deliveries(sandbox, run, 4) == [("run.completed", 503)] * 3 + [("run.failed", 200)]
    assert len(refused) == 3
    assert run.failure_code == ""
    assert run.cost is not None

    outputs_copy(run.pk)
    push_pending_usage()
    run.refresh_from_db()
    assert run.delivery == Delivery.DELIVERED
    record = UsageRecord.objects.get(run=run)
    assert UsageRecord.objects.filter(run__tenant=tenant).count() == 1
    assert [event["identifier"] for event in stripe_fake.meter_events()] == [record.identifier]


def test_forged_callback_naming_an_output_url_never_makes_us_fetch_it(
    tenant: Any,
    sandbox: SandboxServer,
    post_callback: Any,
    recorder: tuple[str, list[str]],
) -> None:
    """Validly signed, as with a leaked secret: the outputs are what Runflow's GET says."""
    base, fetched = recorder
    run = create(tenant)
    sandbox.faults.set_for(str(run.pk), drop_callbacks=True)
    run_submit(run.pk)
    run.refresh_from_db()
    assert run.provider_run_id is not None
    upstream = sandbox.wait_for(run.provider_run_id)

    forged = callback_payload("callback_succeeded", run)
    forged["output"]["outputs"][0]["url"] = f"{base}/video.mp4"
    assert post_callback(run.pk, forged).status_code == 200

    assert wait_for_run(run).status == RunStatus.SUCCEEDED
    runflow_urls = [output["url"] for output in upstream["output"]["outputs"]]
    assert [output["url"] for output in run.outputs] == runflow_urls
    outputs_copy(run.pk)
    run.refresh_from_db()
    assert run.delivery == Delivery.DELIVERED
    assert fetched == []
