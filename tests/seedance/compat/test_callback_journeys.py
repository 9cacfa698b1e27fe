"""A callback end to end: a run made as Runflow's SDK makes one, finished by the sandbox
and a real worker, told to the tenant's receiver by the real dispatcher, once."""

import subprocess
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from seedance.compat import MODEL_ID
from seedance.models import CallbackDelivery
from seedance.sandbox import SandboxServer
from seedance.services.keys import IssuedKey
from tests.seedance.compat.receiver import CallbackReceiver
from tests.seedance.compat.runflow_sdk import RunflowSdk

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def receiver(sandbox: SandboxServer, settings: Any) -> Iterator[CallbackReceiver]:
    receiver = CallbackReceiver().start()
    settings.SEEDANCE = {
        **settings.SEEDANCE,
        "OUTBOUND_LOOPBACK_HTTP": [urlsplit(sandbox.url).netloc, receiver.netloc],
    }
    yield receiver
    receiver.stop()


@pytest.fixture
def service_overrides(receiver: CallbackReceiver, sandbox: SandboxServer) -> dict[str, str]:
    """The worker may send to the receiver (and still fetch from the sandbox)."""
    allowed = f"{urlsplit(sandbox.url).netloc},{receiver.netloc}"
    return {"SEEDANCE_OUTBOUND_LOOPBACK_HTTP": allowed}


def test_a_finished_run_is_told_once_to_its_callback_url_signed_runflows_way(
    live_server: Any,
    issued_key: IssuedKey,
    receiver: CallbackReceiver,
    dispatcher: subprocess.Popen[bytes],
) -> None:
    sdk = RunflowSdk(base_url=live_server.url, api_key=issued_key.secret)
    made = sdk.http.post("/callback-secrets").json()
    receiver.secrets = [made["secret"]]
    created = sdk.create(
        MODEL_ID,
        {
            "input": {"prompt": "a kite", "duration": "4", "resolution": "480p"},
            "callback_url": receiver.url,
        },
    )
    run = sdk.wait(created["id"])
    assert run["status_code"] == "succeeded"
    deadline = time.monotonic() + 30
    while not receiver.received:
        assert time.monotonic() < deadline, "the callback never came"
        time.sleep(0.1)
    time.sleep(2)  # two more dispatcher ticks: nothing else may come
    [callback] = receiver.received
    assert callback.verified
    assert callback.payload["event"] == "run.completed"
    assert callback.payload["run_id"] == run["id"]
    assert callback.payload["output"]["outputs"][0]["url"]
    assert CallbackDelivery.objects.get().state == CallbackDelivery.State.DELIVERED
