"""The Runflow sandbox over real HTTP, pointed at our live server for its callbacks."""

import time
from collections.abc import Iterator
from typing import Any

import pytest

from seedance.models import Run
from seedance.sandbox import SandboxServer
from seedance.states import RunStatus
from tests.conftest import CALLBACK_SECRET


@pytest.fixture(scope="session")
def sandbox_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxServer]:
    server = SandboxServer(
        signing_secret=CALLBACK_SECRET,
        queued_seconds=0.05,
        running_seconds=0.15,
        callback_backoff_scale=0.01,
        callback_timeout=5.0,
        cache_dir=tmp_path_factory.mktemp("sandbox-media"),
    ).start()
    yield server
    server.stop()


@pytest.fixture
def sandbox(sandbox_server: SandboxServer, settings: Any, live_server: Any) -> SandboxServer:
    """Sandbox faults cleared; our settings point at it and it calls back our live server."""
    sandbox_server.faults.clear()
    settings.SEEDANCE = {
        **settings.SEEDANCE,
        "RUNFLOW_BASE_URL": sandbox_server.base_url,
        "PUBLIC_BASE_URL": live_server.url,
        "RUNFLOW_TIMEOUT": 2.0,
    }
    return sandbox_server


def wait_for_run(run: Run, *statuses: str, timeout: float = 10.0) -> Run:
    """Poll our database until the run reaches one of ``statuses`` (default: terminal)."""
    wanted = set(statuses) or set(RunStatus.terminal())
    deadline = time.monotonic() + timeout
    while True:
        run.refresh_from_db()
        if run.status in wanted:
            return run
        if time.monotonic() > deadline:
            raise AssertionError(f"run {run.pk} stayed {run.status}, expected {wanted}")
        time.sleep(0.02)
