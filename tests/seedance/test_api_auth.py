"""Every API endpoint needs a live key: missing, bad or revoked → 401 Bearer, JSON error."""

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from seedance.models import ApiKey, Run, Tenant
from seedance.services.keys import IssuedKey, api_key_revoke
from tests.factories import SYSTEM

PROMPT = "A red fox runs through fresh snow at dawn"


@pytest.fixture
def run(tenant: Tenant) -> Run:
    return Run.objects.create(
        tenant=tenant, prompt=PROMPT, deadline_at=timezone.now() + timedelta(minutes=30)
    )


def call(client: APIClient, endpoint: str, run: Run) -> Any:
    if endpoint == "create":
        return client.post("/api/v1/runs", {"prompt": PROMPT}, format="json")
    if endpoint == "list":
        return client.get("/api/v1/runs")
    if endpoint == "detail":
        return client.get(f"/api/v1/runs/{run.pk}")
    if endpoint == "cancel":
        return client.post(f"/api/v1/runs/{run.pk}/cancel")
    raise AssertionError(endpoint)


ENDPOINTS = ["create", "list", "detail", "cancel"]


def assert_unauthorized(response: Any) -> None:
    assert response.status_code == 401, response.content
    assert response["WWW-Authenticate"] == "Bearer"
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "fields"}
    assert body["error"]["code"] in {"not_authenticated", "authentication_failed"}
    assert body["error"]["message"]
    assert body["error"]["fields"] == {}


def assert_nothing_changed(run: Run) -> None:
    assert list(Run.objects.values_list("pk", flat=True)) == [run.pk]
    assert Run.objects.get(pk=run.pk).status == "queued"


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_missing_key_is_a_401_bearer(endpoint: str, run: Run) -> None:
    response = call(APIClient(), endpoint, run)
    assert_unauthorized(response)
    assert response.json()["error"]["code"] == "not_authenticated"
    assert_nothing_changed(run)


BAD_HEADERS = {
    "unknown-key": "Bearer sdk_AAAAAAAA_" + "A" * 40,
    "garbage": "Bearer not-a-key",
    "empty-bearer": "Bearer",
    "extra-part": "Bearer sdk_a b",
    "basic-scheme": "Basic dXNlcjpwYXNz",
    "token-scheme": "Token {secret}",
    "bare-key": "{secret}",
    "too-long": "Bearer {secret}" + "x" * 200,
    "non-ascii": "Bearer sdk_\u00e9\u00e9",
    "digest-as-key": "Bearer {digest}",
}


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("header", BAD_HEADERS.values(), ids=BAD_HEADERS.keys())
def test_bad_authorization_is_a_401_bearer(
    issued_key: IssuedKey, run: Run, endpoint: str, header: str
) -> None:
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=header.format(secret=issued_key.secret, digest=issued_key.api_key.digest)
    )
    assert_unauthorized(call(client, endpoint, run))
    assert_nothing_changed(run)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_revoked_key_is_a_401_bearer(
    api_client: APIClient, issued_key: IssuedKey, tenant: Tenant, run: Run, endpoint: str
) -> None:
    api_key_revoke(tenant=tenant, key_id=issued_key.api_key.pk, actor=SYSTEM)
    response = call(api_client, endpoint, run)
    assert_unauthorized(response)
    assert response.json()["error"]["code"] == "authentication_failed"
    assert_nothing_changed(run)


def test_key_revoked_between_requests_stops_working(
    api_client: APIClient, issued_key: IssuedKey, tenant: Tenant
) -> None:
    assert api_client.get("/api/v1/runs").status_code == 200
    api_key_revoke(tenant=tenant, key_id=issued_key.api_key.pk, actor=SYSTEM)
    assert_unauthorized(api_client.get("/api/v1/runs"))


@pytest.mark.parametrize(
    ("endpoint", "status"), [("create", 201), ("list", 200), ("detail", 200), ("cancel", 200)]
)
def test_live_key_is_let_in(api_client: APIClient, run: Run, endpoint: str, status: int) -> None:
    assert call(api_client, endpoint, run).status_code == status


@pytest.mark.parametrize("keyword", ["bearer", "BEARER", "Bearer"])
def test_bearer_keyword_is_case_insensitive(issued_key: IssuedKey, keyword: str, db: None) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"{keyword} {issued_key.secret}")
    assert client.get("/api/v1/runs").status_code == 200


def test_failed_authentication_does_not_touch_last_used(issued_key: IssuedKey) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued_key.secret}x")
    assert_unauthorized(client.get("/api/v1/runs"))
    assert ApiKey.objects.get(pk=issued_key.api_key.pk).last_used_at is None


def test_session_login_is_not_an_api_credential(
    django_user_model: Any, tenant: Tenant, run: Run
) -> None:
    user = django_user_model.objects.create_user("staff", is_staff=True)
    client = APIClient()
    client.force_login(user)
    assert_unauthorized(client.get("/api/v1/runs"))
