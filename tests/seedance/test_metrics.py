"""``/metrics``: behind its token, and every seedance metric moves when what it counts
happens (read back from the scrape, as Prometheus reads it)."""

import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from django_q.tasks import async_task
from prometheus_client.core import GaugeMetricFamily
from rest_framework.test import APIClient

from seedance.exceptions import RunflowTransportError
from seedance.metrics import collectors
from seedance.models import Run
from seedance.runflow.client import RunflowClient
from seedance.sandbox import SandboxServer
from seedance.services.submission import run_submit
from seedance.states import RunStatus
from tests.error_shape import assert_error_shape
from tests.factories import callback_payload, finish_successfully, make_run
from tests.metrics import TOKEN, scrape, value
from tests.processes import free_port

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _metrics_token(settings: Any) -> None:
    settings.SEEDANCE = {**settings.SEEDANCE, "METRICS_TOKEN": TOKEN}


def test_metrics_answer_only_the_bearer_of_the_token(client: Any) -> None:
    missing = client.get("/metrics")
    assert_error_shape(missing, 401, "not_authenticated")
    assert missing["WWW-Authenticate"].startswith("Bearer")
    wrong = client.get("/metrics", headers={"Authorization": "Bearer not-the-token"})
    assert_error_shape(wrong, 403, "invalid_token")
    right = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert right.status_code == 200
    assert right["Content-Type"].startswith("text/plain")
    assert b"seedance_runs{" in right.content


def test_metrics_without_a_token_are_open_only_in_debug(client: Any, settings: Any) -> None:
    settings.SEEDANCE = {**settings.SEEDANCE, "METRICS_TOKEN": ""}
    settings.DEBUG = False
    assert_error_shape(client.get("/metrics"), 403, "metrics_disabled")
    settings.DEBUG = True
    assert client.get("/metrics").status_code == 200


def test_a_scrape_carrying_an_api_key_header_style_is_not_the_apis_business(
    issued_key: Any,
) -> None:
    """No API key authentication, throttle or session runs: the token alone decides."""
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {issued_key.secret}")
    assert api.get("/metrics").status_code == 403
    for _ in range(30):
        assert scrape(APIClient())


def test_runs_by_status_are_counted_from_the_database(client: Any, tenant: Any) -> None:
    before = scrape(client)
    run = make_run(tenant)
    make_run(tenant)
    during = scrape(client)
    assert value(during, "seedance_runs", status="queued") == (
        value(before, "seedance_runs", status="queued") + 2
    )
    finish_successfully(run)
    after = scrape(client)
    assert (
        value(after, "seedance_runs", status="queued")
        == value(before, "seedance_runs", status="queued") + 1
    )
    assert value(after, "seedance_runs", status="succeeded") == (
        value(before, "seedance_runs", status="succeeded") + 1
    )


def test_queue_depth_is_the_brokers_waiting_tasks(client: Any) -> None:
    assert value(scrape(client), "seedance_queue_depth") == 0
    async_task("math.floor", 1.5)
    async_task("math.floor", 2.5)
    assert value(scrape(client), "seedance_queue_depth") == 2


def test_submit_latency_is_observed_when_runflow_accepts_the_create(
    client: Any, tenant: Any, sandbox: SandboxServer
) -> None:
    before = scrape(client)
    run = make_run(tenant)
    Run.objects.filter(pk=run.pk).update(created_at=timezone.now() - timedelta(seconds=3))
    run_submit(run.pk)
    after = scrape(client)
    name = "seedance_run_submit_latency_seconds"
    assert value(after, f"{name}_count") == value(before, f"{name}_count") + 1
    assert value(after, f"{name}_sum") - value(before, f"{name}_sum") >= 3
    assert value(after, f"{name}_bucket", le="1.0") == value(before, f"{name}_bucket", le="1.0")


def test_callback_lag_runs_from_runflows_completion_to_our_receipt(
    client: Any, tenant: Any, post_callback: Any
) -> None:
    run = make_run(tenant, provider_run_id=str(uuid.uuid4()), status=RunStatus.RUNNING)
    completed = (timezone.now() - timedelta(seconds=40)).isoformat().replace("+00:00", "Z")
    before = scrape(client)
    payload = callback_payload("callback_succeeded", run, completed_at=completed)
    assert post_callback(run.pk, payload).status_code == 200
    assert post_callback(run.pk, payload).status_code == 200  # a replay is not news
    after = scrape(client)
    name = "seedance_callback_lag_seconds"
    assert value(after, f"{name}_count") == value(before, f"{name}_count") + 1
    assert 40 <= value(after, f"{name}_sum") - value(before, f"{name}_sum") < 60
    assert value(after, f"{name}_bucket", le="30.0") == value(before, f"{name}_bucket", le="30.0")


def test_runflow_errors_are_counted_by_operation_and_reason(
    client: Any, tenant: Any, sandbox: SandboxServer
) -> None:
    name = "seedance_runflow_errors_total"
    before = scrape(client)
    closed = RunflowClient(base_url=f"http://127.0.0.1:{free_port()}/v1", max_attempts=1)
    with closed, pytest.raises(RunflowTransportError):
        closed.get_run("run_missing")
    run = make_run(tenant)
    sandbox.faults.set_for(str(run.pk), create_errors=[503])
    run_submit(run.pk)  # refused once, then accepted on the retry
    after = scrape(client)
    assert value(after, name, operation="get", reason="network") == (
        value(before, name, operation="get", reason="network") + 1
    )
    assert value(after, name, operation="create", reason="503") == (
        value(before, name, operation="create", reason="503") + 1
    )
    run.refresh_from_db()
    assert run.provider_run_id


class _Broken:
    name = "broken_for_test"

    def collect(self) -> Any:
        raise RuntimeError("table missing")


class _Fine:
    name = "fine_for_test"

    def collect(self) -> Any:
        yield GaugeMetricFamily("seedance_fine_for_test", "A test gauge.", value=7)


def test_a_failing_collector_costs_its_own_metrics_not_the_scrape(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(collectors._COLLECTORS, "broken_for_test", _Broken())
    monkeypatch.setitem(collectors._COLLECTORS, "fine_for_test", _Fine())
    samples = scrape(client)
    assert value(samples, "seedance_metrics_collector_up", collector="broken_for_test") == 0
    assert value(samples, "seedance_metrics_collector_up", collector="fine_for_test") == 1
    assert value(samples, "seedance_metrics_collector_up", collector="runs") == 1
    assert value(samples, "seedance_fine_for_test") == 7
