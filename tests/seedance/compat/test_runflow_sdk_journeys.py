"""The compatible surface driven as Runflow's JavaScript SDK drives Runflow (runflow_sdk):
over real sockets to our live server, a real worker submitting to the Runflow sandbox."""

import subprocess
import time
from decimal import Decimal
from typing import Any

import httpx
import pytest

from billing.models import TenantBilling
from seedance.compat import MODEL_ID
from seedance.models import Run
from seedance.moderation import run_approve
from seedance.services.keys import IssuedKey
from seedance.states import Delivery
from tests.fixtures.services import wait_for_run
from tests.seedance.compat.runflow_sdk import RunflowSdk, RunflowSdkError

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sdk(live_server: Any, issued_key: IssuedKey) -> RunflowSdk:
    """The SDK as an app that switched configures it: our host as the base, our key."""
    return RunflowSdk(base_url=live_server.url, api_key=issued_key.secret)


def body(prompt: str, **input: Any) -> dict[str, Any]:
    return {
        "input": {"prompt": prompt, "duration": "4", "resolution": "480p", **input},
        "metadata": {"order": "A-17"},
        "client_ref": "order-A-17",
    }


def test_a_run_created_and_awaited_as_the_sdk_does_succeeds_with_a_video_we_serve(
    sdk: RunflowSdk, worker: subprocess.Popen[bytes]
) -> None:
    created = sdk.create(MODEL_ID, body("a paper boat on a puddle", end_user_id="user-9"))
    assert created["status_code"] == "queued"
    run = sdk.wait(created["id"])
    assert run["status_code"] == "succeeded"
    assert run["error"] is None
    [video] = run["output"]["outputs"]
    assert video["type"] == "video/mp4"
    fetched = httpx.get(video["url"], timeout=10)
    assert fetched.status_code == 200
    assert fetched.content[4:8] == b"ftyp"
    assert run["metadata"] == {"order": "A-17"}
    assert run["client_ref"] == "order-A-17"
    assert Run.objects.get(pk=run["id"]).end_user_id == "user-9"


def test_a_failing_prompt_fails_with_its_reason_in_error_message(
    sdk: RunflowSdk, worker: subprocess.Popen[bytes]
) -> None:
    created = sdk.create(MODEL_ID, body("a storm [sandbox:fail]"))
    run = sdk.wait(created["id"])
    assert run["status_code"] == "failed"
    assert run["output"] is None
    assert run["error"]["message"] == "The model failed to generate a video."
    assert run["error"]["code"] == "GENERATION_FAILED"


def test_a_held_video_stays_running_without_output_until_approved(
    sdk: RunflowSdk, worker: subprocess.Popen[bytes], admin_user: Any
) -> None:
    created = sdk.create(MODEL_ID, body("a beach [sandbox:nsfw]"))
    held = wait_for_run(Run.objects.get(pk=created["id"]))
    assert held.moderation == Run.Moderation.PENDING
    deadline = time.monotonic() + 30
    while held.delivery == Delivery.PENDING:  # the copy is made while the review waits
        assert time.monotonic() < deadline, "the held run's copy never finished"
        time.sleep(0.1)
        held.refresh_from_db()
    shown = sdk.get(created["id"])
    assert (shown["status_code"], shown["output"], shown["error"]) == ("running", None, None)

    assert run_approve(run_id=held.pk, decided_by=admin_user)
    run = sdk.wait(created["id"])
    assert run["status_code"] == "succeeded"
    assert run["output"]["outputs"][0]["url"]


def test_a_spend_cap_refuses_with_insufficient_credit_and_our_code_in_the_details(
    sdk: RunflowSdk, issued_key: IssuedKey
) -> None:
    TenantBilling.objects.filter(pk=issued_key.api_key.tenant_id).update(
        monthly_spend_cap=Decimal("0.10")
    )
    with pytest.raises(RunflowSdkError) as refused:
        sdk.create(MODEL_ID, body("a lighthouse"))
    assert refused.value.status == 402
    assert refused.value.code == "INSUFFICIENT_CREDIT"
    assert refused.value.body["details"] == {"code": "tenant_monthly_spend_cap"}
    assert not Run.objects.exists()
