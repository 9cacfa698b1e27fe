"""``make serve``, for real: gunicorn, the worker, a clean stop, and no token in the logs."""

import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from django.core import signing

from seedance.outputs import SIGNING_SALT
from tests.processes import (
    ROOT,
    Proc,
    descendants,
    enqueue_sleep,
    free_port,
    terminate_and_time,
    wait_for_line,
)

SECRET_KEY = "serve-test-key-" + "x" * 40
BROKERS = [
    "orm",
    pytest.param(
        "redis",
        marks=pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="REDIS_URL not set"),
    ),
]


@dataclass
class Served:
    script: subprocess.Popen[bytes]
    env: dict[str, str]
    base: str
    log: Path
    tree: set[Proc]


def _environment(tmp_path: Path, broker: str) -> dict[str, str]:
    """Production-like: DEBUG off, SQLite in a scratch VAR_DIR, no demo defaults."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "REDIS_URL", "DEBUG") and not key.startswith("PYTEST")
    }
    env.update(
        VAR_DIR=str(tmp_path),
        SECRET_KEY=SECRET_KEY,
        WEB_BIND=f"127.0.0.1:{free_port()}",
        WEB_WORKERS="2",
        WEB_THREADS="2",
        Q_WORKERS="2",
        Q_CLUSTER_NAME=f"seedance-serve-{uuid.uuid4().hex[:8]}",
    )
    if broker == "redis":
        env["REDIS_URL"] = os.environ["REDIS_URL"]
    return env


def _count(tree: set[Proc], name: str) -> int:
    return sum(name in proc.cmdline for proc in tree)


@pytest.fixture(params=BROKERS)
def served(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Served]:
    """``make serve`` up (after the release step it leaves to the operator), its tree recorded;
    stopping signals make itself, which passes SIGTERM on to the script."""
    env = _environment(tmp_path, request.param)
    python = str(ROOT / ".venv/bin/python")
    for step in (["migrate", "--noinput"], ["createcachetable"]):
        subprocess.run([python, "manage.py", *step], cwd=ROOT, env=env, check=True)
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        script = subprocess.Popen(
            ["make", "-s", "serve"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://{env['WEB_BIND']}"
    try:
        wait_for_line(log, "Q Cluster", "running", seconds=60)
        deadline = time.monotonic() + 30
        while _count(descendants(script.pid), "gunicorn") < 3:  # the arbiter and 2 workers
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        httpx.get(f"{base}/api/schema/", timeout=10).raise_for_status()
        yield Served(script, env, base, log, descendants(script.pid))
    finally:
        terminate_and_time(script, descendants(script.pid))


def test_serve_stops_every_process_within_ten_seconds_of_sigterm_with_a_task_running(
    served: Served,
) -> None:
    # qcluster: the cluster, its sentinel, pusher, monitor and 2 workers.
    assert _count(served.tree, "qcluster") >= 6, served.tree
    assert _count(served.tree, "dispatcher") == 1, served.tree
    enqueue_sleep(served.env, 60)
    wait_for_line(served.log, "processing", "time.sleep", seconds=20)
    tree = descendants(served.script.pid)

    elapsed, left = terminate_and_time(served.script, tree)

    assert not left, left
    assert elapsed < 10, elapsed


def test_serve_refuses_to_start_with_unapplied_migrations(tmp_path: Path) -> None:
    env = _environment(tmp_path, "orm")
    done = subprocess.run(
        ["bash", "scripts/serve.sh"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode != 0
    assert "unapplied migrations" in done.stderr


def test_access_log_shows_a_signed_links_token_redacted(served: Served) -> None:
    token = signing.dumps(str(uuid.uuid4()), key=SECRET_KEY, salt=SIGNING_SALT)
    httpx.get(f"{served.base}/files/{token}/?token={token}&session_id=cs_secret_1", timeout=10)

    log = wait_for_line(served.log, '"GET /files/', seconds=10)
    assert token not in log
    assert "cs_secret_1" not in log
    assert '"GET /files/[redacted]/?token=[redacted]&session_id=[redacted] HTTP/1.1" 404' in log


def test_make_serve_without_debug_refuses_to_start_without_a_secret_key_naming_it(
    tmp_path: Path,
) -> None:
    dropped = ("SECRET_KEY", "DJANGO_SETTINGS_MODULE")  # the suite's settings bring a key
    env = {k: v for k, v in _environment(tmp_path, "orm").items() if k not in dropped}
    env["DEBUG"] = "0"
    done = subprocess.run(
        ["make", "-s", "serve"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode != 0
    assert "SECRET_KEY is not set" in done.stderr
    assert "unapplied migrations" not in done.stderr
