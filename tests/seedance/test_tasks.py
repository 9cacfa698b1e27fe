"""The real worker on the configured broker (ORM, or Redis when REDIS_URL is set) takes a
run created through the API all the way to succeeded, in another process."""

import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django_q.brokers import get_broker
from django_q.models import Schedule

from seedance.models import Run
from seedance.queue import TASK_PATHS
from seedance.schedules import RECONCILE_SCHEDULE, ensure_schedules
from tests.seedance.conftest import wait_for_run

ROOT = Path(__file__).resolve().parents[2]


def test_task_paths_resolve_to_callables() -> None:
    from django.utils.module_loading import import_string

    for path in TASK_PATHS:
        assert callable(import_string(path))


@pytest.mark.django_db
def test_schedules_are_created_once_by_name() -> None:
    ensure_schedules()
    ensure_schedules()
    assert Schedule.objects.filter(name=RECONCILE_SCHEDULE).count() == 1


@pytest.mark.django_db(transaction=True)
def test_worker_on_the_configured_broker_takes_an_api_run_to_succeeded(
    api_client: Any, worker: subprocess.Popen[bytes]
) -> None:
    expected_broker = "Redis" if settings.Q_CLUSTER.get("redis") else "ORM"
    assert type(get_broker()).__name__ == expected_broker
    response = api_client.post(
        "/api/v1/runs",
        {"prompt": "a paper boat on a puddle", "duration": "4", "resolution": "480p"},
        format="json",
    )
    assert response.status_code == 201
    run = wait_for_run(Run.objects.get(pk=response.json()["id"]), timeout=30)
    assert run.status == "succeeded"
    assert run.submit_attempts == 1
    # The worker's copy task delivers it: only then does the API say succeeded, with a URL.
    deadline = time.monotonic() + 30
    while (body := api_client.get(f"/api/v1/runs/{run.pk}").json())["status"] != "succeeded":
        assert body["status"] == "running"
        assert time.monotonic() < deadline, "the copy task never delivered the run"
        time.sleep(0.1)
    assert body["output"]["outputs"][0]["url"]
