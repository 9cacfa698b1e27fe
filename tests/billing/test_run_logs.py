"""A whole run's log lines, as production writes them (JSON, through the configured
redaction): found by the run's id from the API's create through Runflow's create, its
callback, the refresh and the delivery, and holding no API key, signing secret, Stripe or
Runflow key, or signed link."""

import time
from collections.abc import Iterator
from typing import Any

import pytest
from rest_framework.test import APIClient

from billing.meters import push_pending_usage
from billing.models import UsageRecord
from billing.provisioning import stripe_provision
from billing.stripe_client import stripe_client
from billing.stripe_fake import StripeFake
from seedance import tasks
from seedance.models import Run
from seedance.sandbox import SandboxServer
from seedance.services.keys import IssuedKey
from seedance.states import Delivery
from tests.conftest import CALLBACK_SECRET
from tests.fixtures.services import wait_for_run
from tests.logs import JsonLines, json_lines


@pytest.fixture
def captured() -> Iterator[JsonLines]:
    with json_lines() as lines:
        yield lines


def test_a_runs_log_lines_are_found_by_its_id_and_hold_no_secret(
    captured: JsonLines,
    issued_key: IssuedKey,
    api_client: APIClient,
    sandbox: SandboxServer,
    stripe_fake: StripeFake,
) -> None:
    stripe_provision(client=stripe_client())
    created = api_client.post(
        "/api/v1/runs",
        {"prompt": "a paper boat in rain", "duration": 4, "resolution": "480p"},
        format="json",
        headers={"X-Request-ID": "client-request-0001"},
    )
    assert created.status_code == 201, created.content
    assert created["X-Request-ID"] == "client-request-0001"
    run_id = created.json()["id"]
    tasks.submit_run(run_id)  # what the worker runs; the sandbox then calls back
    run = wait_for_run(Run.objects.get(pk=run_id))
    tasks.copy_outputs(run_id)
    run.refresh_from_db()
    assert run.delivery == Delivery.DELIVERED
    push_pending_usage()
    assert UsageRecord.objects.get(run=run).push_state == UsageRecord.PushState.CONFIRMED
    link = api_client.get(f"/api/v1/runs/{run_id}").json()["output"]["outputs"][0]["url"]
    assert APIClient().get(link).status_code == 200
    time.sleep(0.2)  # the refresh thread's last lines

    lines = captured.records()
    mine = [line for line in lines if line.get("run_id") == run_id]
    messages = [line["message"] for line in mine]

    def one(predicate: Any, what: str) -> dict[str, Any]:
        found = [line for line in mine if predicate(line)]
        assert found, f"no line for {what} among {messages}"
        return found[0]

    create = one(lambda line: line.get("path") == "/api/v1/runs", "the API's create request")
    assert (create["request_id"], create["tenant"]) == ("client-request-0001", run.tenant.slug)
    sent = one(lambda line: line["message"].startswith("Runflow POST"), "Runflow's create")
    assert sent["runflow_request_id"].startswith("req_")
    one(lambda line: str(line.get("path", "")).startswith("/hooks/runflow/"), "the callback")
    one(
        lambda line: line["message"].startswith(f"Runflow GET runs/{run.provider_run_id}"),
        "refresh",
    )
    one(lambda line: "delivered" in line["message"], "the delivery")

    text = captured.getvalue()
    token = link.rstrip("/").rsplit("/", 1)[-1]
    for secret in (issued_key.secret, CALLBACK_SECRET, "sk_test_billing", "rf_live_test", token):
        assert secret not in text, secret
