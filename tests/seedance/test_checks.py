"""System checks refuse configurations that would fail later, silently."""

from decimal import Decimal
from typing import Any

import pytest

from billing.checks import check_prices
from seedance.checks import (
    check_loopback_wildcard,
    check_q_cluster,
    check_run_limits,
    check_runflow,
    check_shared_cache,
    check_task_paths,
)


def ids(errors: list[Any]) -> list[str]:
    return [error.id for error in errors]


def test_shipped_configuration_passes_every_check() -> None:
    assert check_runflow(None) == []
    assert check_task_paths(None) == []
    assert check_q_cluster(None) == []
    assert check_prices(None) == []
    assert check_shared_cache(None) == []


@pytest.mark.parametrize("backend", ["locmem.LocMemCache", "dummy.DummyCache"])
def test_a_per_process_cache_is_warned_about(settings: Any, backend: str) -> None:
    settings.CACHES = {"default": {"BACKEND": f"django.core.cache.backends.{backend}"}}
    assert ids(check_shared_cache(None)) == ["seedance.W008"]


def default_cache(**env: str) -> dict[str, Any]:
    """settings.CACHES["default"] as a fresh process builds it from ``env``."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    # As a deployment loads them: without the suite's per-xdist-worker prefix.
    unset = ("REDIS_URL", "CACHE_KEY_PREFIX", "PYTEST_XDIST_WORKER")
    base = {k: v for k, v in os.environ.items() if k not in unset}
    code = "import json; from django.conf import settings; print(json.dumps(settings.CACHES))"
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=Path(__file__).resolve().parents[2],
        env={**base, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(result.stdout.strip().splitlines()[-1])["default"])


def test_the_cache_is_redis_with_redis_url_and_a_database_table_without() -> None:
    assert default_cache(REDIS_URL="redis://127.0.0.1:6379/9", CACHE_KEY_PREFIX="staging") == {
        "BACKEND": "config.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379/9",
        "KEY_PREFIX": "staging",
    }
    assert default_cache() == {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "django_cache",
        "KEY_PREFIX": "seedance",
    }


@pytest.mark.parametrize(("timeout", "retry"), [(60, 60), (120, 60)])
def test_q_cluster_timeout_not_below_retry_is_refused(
    settings: Any, timeout: int, retry: int
) -> None:
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "timeout": timeout, "retry": retry}
    assert ids(check_q_cluster(None)) == ["seedance.E006"]


def test_q_cluster_timeout_below_retry_passes(settings: Any) -> None:
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "timeout": 59, "retry": 60}
    assert check_q_cluster(None) == []


def test_resolution_without_a_price_is_refused(settings: Any) -> None:
    settings.BILLING = {**settings.BILLING, "PRICES_PER_SECOND": {"720p": Decimal("0.2419")}}
    errors = check_prices(None)
    assert ids(errors) == ["billing.E001"]
    assert "480p" in errors[0].msg


def test_float_price_is_refused(settings: Any) -> None:
    prices = {"720p": Decimal("0.2419"), "480p": 0.108}
    settings.BILLING = {**settings.BILLING, "PRICES_PER_SECOND": prices}
    assert ids(check_prices(None)) == ["billing.E002"]


def test_missing_callback_secret_is_refused(settings: Any) -> None:
    settings.SEEDANCE = {**settings.SEEDANCE, "CALLBACK_SECRETS": []}
    assert "seedance.E003" in ids(check_runflow(None))


def test_admission_hook_that_does_not_resolve_is_refused(settings: Any) -> None:
    settings.SEEDANCE = {**settings.SEEDANCE, "ADMISSION_HOOKS": ["billing.nowhere.hook"]}
    assert ids(check_task_paths(None)) == ["seedance.E005"]


def run_check_with_env(**env: str) -> str:
    import os
    import subprocess
    import sys
    from pathlib import Path

    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout + result.stderr


def test_sandbox_key_and_secret_are_never_defaults_for_a_real_runflow() -> None:
    output = run_check_with_env(RUNFLOW_BASE_URL="https://api.runflow.io/v1")
    assert "seedance.E001" in output
    assert "seedance.E003" in output


def test_sandbox_secret_configured_for_a_real_runflow_is_refused(settings: Any) -> None:
    settings.SEEDANCE = {
        **settings.SEEDANCE,
        "RUNFLOW_BASE_URL": "https://api.runflow.io/v1",
        "CALLBACK_SECRETS": ["whsec_sandbox_dev_secret"],
    }
    assert "seedance.E007" in ids(check_runflow(None))


def test_spaces_around_rotated_secrets_are_trimmed() -> None:
    output = run_check_with_env(
        RUNFLOW_CALLBACK_SECRETS="whsec_new , whsec_old",
        RUNFLOW_BASE_URL="https://api.runflow.io/v1",
        RUNFLOW_API_KEY="rf_live_x",
    )
    assert "System check identified no issues" in output


def test_hard_limit_below_the_deadline_is_refused(settings: Any) -> None:
    settings.SEEDANCE = {
        **settings.SEEDANCE,
        "RUN_DEADLINE_SECONDS": 1800,
        "RUN_HARD_LIMIT_SECONDS": 1799,
    }
    assert ids(check_run_limits(None)) == ["seedance.E012"]


def test_hard_limit_at_the_deadline_passes(settings: Any) -> None:
    settings.SEEDANCE = {
        **settings.SEEDANCE,
        "RUN_DEADLINE_SECONDS": 1800,
        "RUN_HARD_LIMIT_SECONDS": 1800,
    }
    assert check_run_limits(None) == []


def test_a_loopback_port_wildcard_is_refused_without_debug(settings: Any) -> None:
    settings.SEEDANCE = {**settings.SEEDANCE, "OUTBOUND_LOOPBACK_HTTP": ["127.0.0.1:*"]}
    settings.DEBUG = False
    assert ids(check_loopback_wildcard(None)) == ["seedance.E013"]
    settings.DEBUG = True
    assert check_loopback_wildcard(None) == []
    settings.DEBUG = False
    settings.SEEDANCE = {**settings.SEEDANCE, "OUTBOUND_LOOPBACK_HTTP": ["127.0.0.1:8765"]}
    assert check_loopback_wildcard(None) == []


@pytest.mark.parametrize(
    "runflow_base_url",
    [
        "https://seedance.example.com/v1",  # PUBLIC_BASE_URL's host and port
        "https://api.seedance.example.com/v1",  # a host we serve (ALLOWED_HOSTS)
        "http://127.0.0.1:8000/v1",  # the demo's own web server
    ],
)
def test_runflow_base_url_pointing_at_our_own_compatible_surface_is_refused(
    settings: Any, runflow_base_url: str
) -> None:
    """Runs submitted to ourselves would be resubmitted to ourselves, forever."""
    public = (
        "http://127.0.0.1:8000"
        if "127.0.0.1" in runflow_base_url
        else "https://seedance.example.com"
    )
    settings.ALLOWED_HOSTS = ["seedance.example.com", ".seedance.example.com", "127.0.0.1"]
    settings.SEEDANCE = {
        **settings.SEEDANCE,
        "RUNFLOW_BASE_URL": runflow_base_url,
        "PUBLIC_BASE_URL": public,
    }
    assert "seedance.E014" in ids(check_runflow(None))


@pytest.mark.parametrize(
    "runflow_base_url", ["https://api.runflow.io/v1", "http://127.0.0.1:8765/v1"]
)
def test_runflow_or_the_sandbox_beside_us_is_no_loop(settings: Any, runflow_base_url: str) -> None:
    settings.ALLOWED_HOSTS = ["seedance.example.com", "127.0.0.1", "localhost"]
    settings.SEEDANCE = {
        **settings.SEEDANCE,
        "RUNFLOW_BASE_URL": runflow_base_url,
        "PUBLIC_BASE_URL": "http://127.0.0.1:8000",
    }
    assert "seedance.E014" not in ids(check_runflow(None))
