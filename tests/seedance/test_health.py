"""``/health/live`` and ``/health/ready``: the database and the broker decide readiness;
Runflow and Stripe never do (their outage is a metric, not a reason to stop serving)."""

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from django_q.conf import Conf

from tests.processes import ROOT, free_port

pytestmark = pytest.mark.django_db

GUNICORN_ARGS = ["--config", "python:config.gunicorn", "config.wsgi"]


@pytest.fixture
def broker_refusing(monkeypatch: pytest.MonkeyPatch) -> None:
    """django-q2 pointed at a Redis that is not there (a port nothing listens on)."""
    monkeypatch.setattr(Conf, "ORM", None)
    monkeypatch.setattr(Conf, "DJANGO_REDIS", None)
    monkeypatch.setattr(Conf, "REDIS", f"redis://127.0.0.1:{free_port()}/0")


def test_live_answers_without_touching_anything(
    client: Any, django_assert_num_queries: Any, broker_refusing: None
) -> None:
    with django_assert_num_queries(0):
        response = client.get("/health/live")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_ready_when_the_database_and_the_broker_answer(client: Any) -> None:
    response = client.get("/health/ready")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "failed": [],
        "checks": {"database": "ok", "broker": "ok"},
    }


def test_not_ready_when_the_broker_refuses(client: Any, broker_refusing: None) -> None:
    response = client.get("/health/ready")
    assert response.status_code == 503
    body = response.json()
    assert (body["status"], body["failed"]) == ("unavailable", ["broker"])
    assert body["checks"] == {"database": "ok", "broker": "ConnectionError"}


def test_still_ready_when_runflow_and_stripe_are_down(client: Any, settings: Any) -> None:
    settings.SEEDANCE = {
        **settings.SEEDANCE,
        "RUNFLOW_BASE_URL": f"http://127.0.0.1:{free_port()}/v1",
    }
    settings.BILLING = {
        **settings.BILLING,
        "STRIPE_API_KEY": "sk_test_down",
        "STRIPE_API_BASE": f"http://127.0.0.1:{free_port()}",
    }
    assert client.get("/health/ready").status_code == 200


def test_probes_need_no_credentials_and_skip_the_https_redirect(client: Any, settings: Any) -> None:
    settings.SECURE_SSL_REDIRECT = True
    for path in ("/health/live", "/health/ready"):
        assert client.get(path).status_code == 200
        assert client.get(path, headers={"Authorization": "Bearer sdk_bad_key"}).status_code == 200
        assert client.post(path).status_code == 405
    assert client.get("/api/v1/runs").status_code == 301  # everything else still redirects


@pytest.fixture
def web_without_database(tmp_path: Path) -> Iterator[str]:
    """gunicorn, as serve.sh runs it, with its PostgreSQL gone (a port nothing listens on)."""
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DEBUG")},
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{free_port()}/seedance_gone",
        "VAR_DIR": str(tmp_path),
        "WEB_BIND": f"127.0.0.1:{port}",
        "WEB_WORKERS": "1",
        "WEB_THREADS": "2",
    }
    log = (tmp_path / "web.log").open("wb")
    process = subprocess.Popen(
        [str(ROOT / ".venv/bin/python"), "-m", "gunicorn", *GUNICORN_ARGS],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{base}/health/live", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=15)
        log.close()


def test_not_ready_when_the_database_is_down_while_live_stays_up(
    web_without_database: str,
) -> None:
    live = httpx.get(f"{web_without_database}/health/live", timeout=5)
    assert (live.status_code, live.json()) == (200, {"status": "ok"})
    ready = httpx.get(f"{web_without_database}/health/ready", timeout=10)
    assert ready.status_code == 503
    body = ready.json()
    assert "database" in body["failed"]
    assert body["checks"]["database"] == "OperationalError"
    assert "seedance_gone" not in ready.text  # hosts and names stay in the log
