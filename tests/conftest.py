"""Shared fixtures: tenants, API keys and clients, and signed callback helpers."""

import json
import os
import time
import uuid
from collections.abc import Callable
from typing import Any

import hypothesis
import pytest
from allauth.mfa import app_settings
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
    yield_hotp_counters_from_time,
)
from hypothesis import HealthCheck
from rest_framework.test import APIClient

from seedance import queue
from seedance.models import Tenant
from seedance.runflow.signing import REQUEST_ID_HEADER, SIGNATURE_HEADER, sign
from seedance.services.keys import IssuedKey, api_key_issue
from tests.factories import SYSTEM

pytest_plugins = ["tests.fixtures.services"]

# Property tests: `ci` (the default) replays the same examples on every run, in seconds;
# HYPOTHESIS_PROFILE=thorough searches far wider. Examples share their test's database
# (the function-scoped fixtures are meant) and a request's time is no failure.
hypothesis.settings.register_profile(
    "ci",
    max_examples=40,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
hypothesis.settings.register_profile(
    "thorough",
    max_examples=2000,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
hypothesis.settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

CALLBACK_SECRET = "whsec_test_current"
OLD_CALLBACK_SECRET = "whsec_test_previous"


def seedance_test_settings(current: dict[str, Any]) -> dict[str, Any]:
    """``SEEDANCE`` as the suite runs it: a Runflow key and callback secrets of its own,
    billing's admission hook, and no status sweep."""
    return {
        **current,
        "RUNFLOW_API_KEY": "rf_live_test",
        "CALLBACK_SECRETS": [CALLBACK_SECRET, OLD_CALLBACK_SECRET],
        "PUBLIC_BASE_URL": "http://testserver",
        "ADMISSION_HOOKS": ["billing.limits.admit_run"],
        # The sweep is its own tests' subject (they turn it on): elsewhere a dispatcher
        # tick enqueues only what the test made due.
        "STATUS_SWEEP_SECONDS": 0,
    }


#: Production's PBKDF2 costs ~0.5 s a password by design; tests hash cheaply.
TEST_PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _empty_redis_queue(settings: Any) -> None:
    """Each test starts with its worker's Redis queue empty: what an earlier test enqueued
    and no qcluster took (the ORM broker's queue is in the test database, undone anyway)."""
    if settings.Q_CLUSTER.get("redis"):
        queue.current_broker().purge_queue()


@pytest.fixture(autouse=True)
def _seedance_settings(settings: Any, tmp_path: Any) -> None:
    settings.SEEDANCE = seedance_test_settings(settings.SEEDANCE)
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.PASSWORD_HASHERS = TEST_PASSWORD_HASHERS
    # The shared cache outlives a test (Redis, or the database cache of a transactional
    # test): every test counts its rate limits under its own prefix, so neither another
    # test nor another xdist worker sharing the Redis database sees its attempts.
    settings.CACHES = {
        name: {**conf, "KEY_PREFIX": f"test-{uuid.uuid4().hex}"}
        for name, conf in settings.CACHES.items()
    }


def totp_enrol(user: Any) -> str:
    """Give ``user`` an active TOTP authenticator, as staff need for the admin; its secret."""
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return secret


#: allauth accepts only the current period's code (MFA_TOTP_TOLERANCE 0): a code taken this
#: close to the period's end may be stale by the time a loaded machine's server checks it.
TOTP_FRESH_SECONDS = 8


def totp_code(secret: str) -> str:
    """The code an authenticator app shows now for ``secret``, waiting for the next period
    when this one is about to end (as a person would for a code about to change)."""
    period = int(app_settings.TOTP_PERIOD)
    left = period - time.time() % period
    if left < TOTP_FRESH_SECONDS:
        time.sleep(left + 0.05)
    return format_hotp_value(hotp_value(secret, next(yield_hotp_counters_from_time())))


def has_totp(user: Any) -> bool:
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


@pytest.fixture
def admin_user(admin_user: Any) -> Any:
    """pytest-django's superuser, enrolled in TOTP like every staff account must be."""
    totp_enrol(admin_user)
    return admin_user


@pytest.fixture
def tenant(db: None) -> Tenant:
    return Tenant.objects.create(slug="acme", name="Acme")


@pytest.fixture
def other_tenant(db: None) -> Tenant:
    return Tenant.objects.create(slug="globex", name="Globex")


@pytest.fixture
def issued_key(tenant: Tenant) -> IssuedKey:
    return api_key_issue(tenant=tenant, name="test", actor=SYSTEM)


@pytest.fixture
def api_client(issued_key: IssuedKey) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued_key.secret}")
    return client


@pytest.fixture
def other_api_client(other_tenant: Tenant) -> APIClient:
    client = APIClient()
    secret = api_key_issue(tenant=other_tenant, name="other", actor=SYSTEM).secret
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


@pytest.fixture
def post_callback() -> Callable[..., Any]:
    """POST a Runflow callback body to a run's callback URL, signed like Runflow signs."""

    def post(
        run_id: Any,
        payload: dict[str, Any],
        *,
        secret: str | None = CALLBACK_SECRET,
        signature: str | None = None,
        request_id: str = "req_test",
    ) -> Any:
        body = json.dumps(payload).encode()
        headers = {REQUEST_ID_HEADER: request_id}
        if signature is not None:
            headers[SIGNATURE_HEADER] = signature
        elif secret is not None:
            headers[SIGNATURE_HEADER] = sign(body, secret)
        return APIClient().post(
            f"/hooks/runflow/runs/{run_id}/",
            data=body,
            content_type="application/json",
            headers=headers,
        )

    return post
