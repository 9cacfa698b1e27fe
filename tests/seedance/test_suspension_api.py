"""A suspended tenant's keys are known and refused: 403 ``tenant_suspended`` on every
/api/v1 endpoint (enumerated from the URLconf, billing's included), distinct from a wrong
or revoked key's 401; resume lets them in again."""

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from rest_framework.test import APIClient

from seedance.audit import Actor
from seedance.exceptions import TenantSuspended
from seedance.models import ApiKey, Run, Tenant
from seedance.run_input import RunInput
from seedance.services.keys import IssuedKey, api_key_issue, api_key_revoke
from seedance.services.runs import run_create
from seedance.services.suspension import tenant_resume, tenant_suspend
from seedance.states import RunStatus
from tests.factories import SYSTEM

API_PREFIX = "api/v1/"
PROMPT = "A paper boat drifting down a gutter in the rain"


def api_endpoints() -> Iterator[tuple[str, str]]:
    """(method, route) for every view under /api/v1/, whoever's app it is."""
    for entry in get_resolver().url_patterns:
        if isinstance(entry, URLResolver) and str(entry.pattern) == API_PREFIX:
            for pattern in entry.url_patterns:
                assert isinstance(pattern, URLPattern)
                view = pattern.callback.cls  # type: ignore[attr-defined]
                for method in ("get", "post", "put", "patch", "delete"):
                    if hasattr(view, method):
                        yield method, str(pattern.pattern)


ENDPOINTS = sorted(set(api_endpoints()))


def test_the_endpoint_list_covers_seedance_and_billing() -> None:
    routes = {route for _, route in ENDPOINTS}
    assert {"runs", "runs/<str:run_id>", "runs/<str:run_id>/cancel", "usage"} <= routes


@pytest.fixture
def staff(db: None) -> User:
    return User.objects.create_user("stella", is_staff=True)


@pytest.fixture
def run(tenant: Tenant) -> Run:
    """In generation at Runflow: a suspension lets it finish."""
    return Run.objects.create(
        tenant=tenant,
        prompt=PROMPT,
        status=RunStatus.RUNNING,
        provider_run_id="rf_run_in_flight",
        claimed_at=timezone.now(),
        submit_attempts=1,
        deadline_at=timezone.now() + timedelta(minutes=30),
    )


def call(client: APIClient, method: str, route: str, run: Run) -> Any:
    path = "/" + API_PREFIX + route.replace("<str:run_id>", str(run.pk))
    body = {"prompt": PROMPT} if method == "post" else None
    return getattr(client, method)(path, body, format="json")


def client_for(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


@pytest.mark.parametrize(("method", "route"), ENDPOINTS, ids=[f"{m} {r}" for m, r in ENDPOINTS])
def test_every_key_of_a_suspended_tenant_is_refused_403_on_every_endpoint(
    tenant: Tenant, issued_key: IssuedKey, staff: User, run: Run, method: str, route: str
) -> None:
    second = api_key_issue(tenant=tenant, name="second", actor=SYSTEM)
    tenant_suspend(tenant=tenant, actor=Actor.staff(staff), reason="chargebacks")

    for secret in (issued_key.secret, second.secret):
        response = call(client_for(secret), method, route, run)
        assert response.status_code == 403, response.content
        assert response["Content-Type"].startswith("application/json")
        error = response.json()["error"]
        assert error["code"] == "tenant_suspended"
        assert "suspended" in error["message"]
        assert error["fields"] == {}
    # Nothing was created or canceled on the way.
    assert list(Run.objects.values_list("pk", "status")) == [(run.pk, RunStatus.RUNNING)]


def test_a_suspended_tenants_key_is_still_identified(
    tenant: Tenant, issued_key: IssuedKey, staff: User
) -> None:
    tenant_suspend(tenant=tenant, actor=Actor.staff(staff), reason="abuse report")
    client_for(issued_key.secret).get("/api/v1/runs")
    assert ApiKey.objects.get(pk=issued_key.api_key.pk).last_used_at is not None


def test_wrong_and_revoked_keys_of_a_suspended_tenant_stay_401(
    tenant: Tenant, issued_key: IssuedKey, staff: User
) -> None:
    revoked = api_key_issue(tenant=tenant, name="old", actor=SYSTEM)
    api_key_revoke(tenant=tenant, key_id=revoked.api_key.pk, actor=SYSTEM)
    tenant_suspend(tenant=tenant, actor=Actor.staff(staff), reason="abuse report")
    for secret in (revoked.secret, "sdk_AAAAAAAA_" + "A" * 40):
        response = client_for(secret).get("/api/v1/runs")
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "authentication_failed"


def test_another_tenant_is_untouched_by_a_suspension(
    tenant: Tenant, other_api_client: APIClient, staff: User
) -> None:
    tenant_suspend(tenant=tenant, actor=Actor.staff(staff), reason="abuse report")
    assert other_api_client.get("/api/v1/runs").status_code == 200
    assert other_api_client.post("/api/v1/runs", {"prompt": PROMPT}, format="json").status_code == (
        201
    )


def test_resume_lets_every_key_in_again(tenant: Tenant, api_client: APIClient, staff: User) -> None:
    tenant_suspend(tenant=tenant, actor=Actor.staff(staff), reason="unpaid invoices")
    assert api_client.get("/api/v1/runs").status_code == 403
    tenant_resume(tenant=tenant, actor=Actor.staff(staff), reason="paid in full")
    assert api_client.get("/api/v1/runs").status_code == 200
    created = api_client.post("/api/v1/runs", {"prompt": PROMPT}, format="json")
    assert created.status_code == 201
    assert created.json()["status"] == RunStatus.QUEUED


def test_a_suspended_tenant_creates_no_run_whoever_asks(tenant: Tenant, staff: User) -> None:
    tenant_suspend(tenant=tenant, actor=Actor.staff(staff), reason="abuse report")
    with pytest.raises(TenantSuspended):
        run_create(tenant=tenant, run_input=RunInput(prompt=PROMPT))
    assert not Run.objects.exists()
