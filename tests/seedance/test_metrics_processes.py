"""``/metrics`` served by scripts/serve.sh's gunicorn (two workers) beside its qcluster (two
workers): what each process records adds up in every scrape (prometheus-client's
multiprocess mode, the directory serve.sh prepares), and the database's counts agree."""

import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from seedance.models import Run
from seedance.sandbox import SandboxServer
from seedance.services.keys import IssuedKey
from seedance.states import Delivery, RunStatus
from tests.conftest import CALLBACK_SECRET
from tests.fixtures.services import database_url
from tests.metrics import TOKEN, scrape_url, value
from tests.processes import ROOT, descendants, free_port, terminate_and_time, wait_for_line

pytestmark = pytest.mark.django_db(transaction=True)

RUNS = 4
REFUSED_CREATES = 3


@dataclass
class Stack:
    base: str
    log: Path
    metrics_dir: Path


@pytest.fixture
def stack(tmp_path: Path, sandbox_server: SandboxServer, settings: Any) -> Iterator[Stack]:
    sandbox_server.faults.clear()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DEBUG", "PROMETHEUS_MULTIPROC_DIR", "STRIPE_API_KEY")
        and not key.startswith("PYTEST")
    }
    env.update(
        DATABASE_URL=database_url(),
        VAR_DIR=str(tmp_path),
        MEDIA_ROOT=str(tmp_path / "media"),
        WEB_BIND=f"127.0.0.1:{port}",
        WEB_WORKERS="2",
        WEB_THREADS="2",
        Q_WORKERS="2",
        Q_CLUSTER_NAME=f"seedance-metrics-{uuid.uuid4().hex[:8]}",
        RUNFLOW_BASE_URL=sandbox_server.base_url,
        RUNFLOW_API_KEY="rf_live_test",
        RUNFLOW_CALLBACK_SECRETS=CALLBACK_SECRET,
        PUBLIC_BASE_URL=base,
        METRICS_TOKEN=TOKEN,
        SEEDANCE_CALLBACK_RECHECK_SECONDS="0.5",
    )
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        script = subprocess.Popen(
            ["bash", "scripts/serve.sh"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_for_line(log, "Q Cluster", "running", seconds=60)
        deadline = time.monotonic() + 30
        while sum("gunicorn" in proc.cmdline for proc in descendants(script.pid)) < 3:
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        httpx.get(f"{base}/health/ready", timeout=10).raise_for_status()
        yield Stack(base, log, tmp_path / "prometheus")
    finally:
        sandbox_server.sandbox.silence_callbacks()
        sandbox_server.faults.clear()
        terminate_and_time(script, descendants(script.pid))


def _wait_delivered(run_ids: list[str], log: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        runs = Run.objects.filter(pk__in=run_ids)
        if all(
            run.status == RunStatus.SUCCEEDED and run.delivery == Delivery.DELIVERED for run in runs
        ):
            return
        time.sleep(0.2)
    states = list(Run.objects.filter(pk__in=run_ids).values_list("status", "delivery"))
    raise AssertionError(f"runs not delivered: {states}\n{log.read_text()[-4000:]}")


def test_every_scrape_sums_what_the_web_and_worker_processes_recorded(
    stack: Stack, sandbox_server: SandboxServer, issued_key: IssuedKey
) -> None:
    before = scrape_url(stack.base)
    sandbox_server.faults.set_global(create_errors=[503] * REFUSED_CREATES, retry_after=1)
    headers = {"Authorization": f"Bearer {issued_key.secret}"}
    run_ids = []
    for index in range(RUNS):
        response = httpx.post(
            f"{stack.base}/api/v1/runs",
            json={"prompt": f"a kite over dunes {index}", "duration": 4, "resolution": "480p"},
            headers=headers,
            timeout=10,
        )
        assert response.status_code == 201, response.text
        run_ids.append(response.json()["id"])
    _wait_delivered(run_ids, stack.log)

    scrapes = [scrape_url(stack.base) for _ in range(6)]  # new connections: both web workers

    def grew(samples: Any, name: str, **labels: str) -> float:
        return value(samples, name, **labels) - value(before, name, **labels)

    for samples in scrapes:
        # Recorded by qcluster's workers, read by gunicorn's, which never submitted anything.
        assert grew(samples, "seedance_run_submit_latency_seconds_count") == RUNS
        assert (
            grew(samples, "seedance_runflow_errors_total", operation="create", reason="503")
            == REFUSED_CREATES
        )
        # Recorded by whichever web worker took each callback.
        assert grew(samples, "seedance_callback_lag_seconds_count") == RUNS
        # Counted in the database at scrape time.
        assert grew(samples, "seedance_runs", status="succeeded") == RUNS
    assert sorted(stack.metrics_dir.glob("*.db")), "serve.sh set no multiprocess directory"
