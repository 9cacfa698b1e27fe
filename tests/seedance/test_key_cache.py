"""A known API key is served from the shared cache, and whatever changes what it grants
(revoke, revoke all, suspension, resume, deletion) is seen on the very next request."""

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache, caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from seedance.audit import Actor
from seedance.models import ApiKey, Tenant
from seedance.services.key_cache import (
    FORGOTTEN,
    api_keys_forget,
    cache_key_of,
    cached_api_key,
)
from seedance.services.keys import (
    IssuedKey,
    api_key_authenticate_cached,
    api_key_revoke,
    api_key_revoke_all,
)
from seedance.services.suspension import tenant_resume, tenant_suspend
from tests.factories import SYSTEM


@pytest.fixture
def staff(db: None) -> User:
    return User.objects.create_user("stella", is_staff=True)


def shared_entry(issued_key: IssuedKey) -> Any:
    """The entry as another process sees it: through a connection of its own."""
    return caches.create_connection("default").get(cache_key_of(issued_key.api_key.digest))


def key_queries(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if "seedance_apikey" in q["sql"]]


def test_a_known_key_is_answered_from_the_shared_cache_without_its_select(
    api_client: APIClient, issued_key: IssuedKey, tenant: Tenant
) -> None:
    assert api_client.get("/api/v1/runs").status_code == 200
    entry = shared_entry(issued_key)
    assert isinstance(entry, ApiKey)
    assert entry.tenant.slug == tenant.slug
    with CaptureQueriesContext(connection) as queries:
        assert api_client.get("/api/v1/runs").status_code == 200
    assert key_queries(queries) == []


def test_a_revoked_key_is_refused_on_the_very_next_request_with_the_cache_warm(
    api_client: APIClient,
    issued_key: IssuedKey,
    tenant: Tenant,
    django_capture_on_commit_callbacks: Any,
) -> None:
    assert api_client.get("/api/v1/runs").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        api_key_revoke(tenant=tenant, key_id=issued_key.api_key.pk, actor=SYSTEM)
    assert shared_entry(issued_key) == FORGOTTEN
    assert api_client.get("/api/v1/runs").status_code == 401


def test_revoking_every_key_refuses_a_cached_one_on_the_next_request(
    api_client: APIClient, issued_key: IssuedKey, tenant: Tenant
) -> None:
    assert api_client.get("/api/v1/runs").status_code == 200
    api_key_revoke_all(tenant=tenant, actor=SYSTEM, reason="leaked")
    assert shared_entry(issued_key) == FORGOTTEN
    assert api_client.get("/api/v1/runs").status_code == 401


def test_a_suspension_and_a_resume_are_each_seen_on_the_next_request(
    api_client: APIClient, tenant: Tenant, staff: User
) -> None:
    assert api_client.get("/api/v1/runs").status_code == 200
    tenant_suspend(tenant=tenant, actor=Actor.staff(staff), reason="abuse report")
    response = api_client.get("/api/v1/runs")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "tenant_suspended"
    tenant_resume(tenant=tenant, actor=Actor.staff(staff), reason="settled")
    assert api_client.get("/api/v1/runs").status_code == 200


def test_a_deleted_tenants_cached_key_is_refused(api_client: APIClient, tenant: Tenant) -> None:
    assert api_client.get("/api/v1/runs").status_code == 200
    tenant.delete()
    assert api_client.get("/api/v1/runs").status_code == 401


def test_a_key_read_just_before_it_changed_is_not_cached_again(issued_key: IssuedKey) -> None:
    """The change's marker wins over the reader that looked the row up before it."""
    api_keys_forget([issued_key.api_key.digest])
    assert api_key_authenticate_cached(issued_key.secret) is not None
    assert shared_entry(issued_key) == FORGOTTEN


def test_a_cached_key_still_records_its_last_use_once_a_minute(
    api_client: APIClient, issued_key: IssuedKey
) -> None:
    assert api_client.get("/api/v1/runs").status_code == 200
    stale = timezone.now() - timedelta(minutes=5)
    ApiKey.objects.filter(pk=issued_key.api_key.pk).update(last_used_at=stale)
    entry = shared_entry(issued_key)
    entry.last_used_at = stale
    cache.set(cache_key_of(issued_key.api_key.digest), entry, 60)
    assert api_client.get("/api/v1/runs").status_code == 200
    assert ApiKey.objects.get(pk=issued_key.api_key.pk).last_used_at > stale
    with CaptureQueriesContext(connection) as queries:
        assert api_client.get("/api/v1/runs").status_code == 200
    assert key_queries(queries) == []


def test_recording_a_use_never_overwrites_a_revocations_marker(
    issued_key: IssuedKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A request that read the entry just before the key was revoked is served that once,
    and writes nothing over the revocation's marker: the next request is refused."""
    digest = issued_key.api_key.digest
    assert api_key_authenticate_cached(issued_key.secret) is not None
    read_before = cached_api_key(digest)
    assert read_before is not None
    assert read_before.api_key is not None
    read_before.api_key.last_used_at = timezone.now() - timedelta(minutes=5)
    ApiKey.objects.filter(pk=issued_key.api_key.pk).update(revoked_at=timezone.now())
    api_keys_forget([digest])

    monkeypatch.setattr("seedance.services.keys.cached_api_key", lambda _: read_before)
    assert api_key_authenticate_cached(issued_key.secret) is not None
    monkeypatch.undo()
    assert shared_entry(issued_key) == FORGOTTEN
    assert api_key_authenticate_cached(issued_key.secret) is None


def test_an_unreadable_cache_falls_back_to_the_database(
    api_client: APIClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unreachable(*args: Any, **kwargs: Any) -> Any:
        raise ConnectionError("cache down")

    for read in ("get", "get_many"):
        monkeypatch.setattr(type(caches["default"]), read, unreachable)
    assert api_client.get("/api/v1/runs").status_code == 200


def test_with_the_cache_off_no_key_is_kept(
    api_client: APIClient, issued_key: IssuedKey, settings: Any
) -> None:
    settings.SEEDANCE = {**settings.SEEDANCE, "API_KEY_CACHE_SECONDS": 0}
    assert api_client.get("/api/v1/runs").status_code == 200
    assert shared_entry(issued_key) is None
