"""Tenant B's own pages and lists (every URL on ``NO_OBJECT``, by every method): none of
tenant A's rows shows, whatever B filters by (A's end user, A's prompt), and nothing B
writes there changes A's rows."""

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from seedance.models import Run, Tenant
from seedance.states import RunStatus
from tests.isolation.matrix import client_for, leaked, no_object_urls, send
from tests.isolation.snapshot import snapshot
from tests.isolation.world import TenantWorld, idempotency_key

Body = Callable[[TenantWorld, TenantWorld], dict[str, Any]]

#: What B sends to its own pages' writes; some name A's strings (A's end user id), as a
#: tenant may well use the same end-user ids as another.
BODIES: dict[tuple[str, str], Body] = {
    ("api:runs", "POST"): lambda a, b: {"prompt": "bumblebee kite", "end_user_id": a.end_user_id},
    ("api:webhook-endpoints", "POST"): lambda a, b: {
        "url": "http://127.0.0.1:9/bumblebee",
        "events": ["run.succeeded"],
    },
    ("portal:run-create", "POST"): lambda a, b: {
        "prompt": "bumblebee kite",
        "duration": "5",
        "resolution": "720p",
        "aspect_ratio": "16:9",
    },
    ("portal:tenant-create", "POST"): lambda a, b: {"name": "Bumblebee Two", "slug": "bb-two"},
    ("portal:switch-tenant", "POST"): lambda a, b: {"tenant": a.tenant.pk},
    ("portal:keys", "POST"): lambda a, b: {"name": "bumblebee second"},
    ("portal:members", "POST"): lambda a, b: {"email": a.admin.email, "role": "admin"},
    ("portal:tenant-settings", "POST"): lambda a, b: {"name": "Bumblebee Renamed"},
    ("portal:webhooks", "POST"): lambda a, b: {
        "url": "http://127.0.0.1:9/bumblebee",
        "events": ["run.succeeded"],
    },
    ("billing_portal:caps", "POST"): lambda a, b: {"monthly_spend_cap": "10"},
    ("billing_portal:end-user-limit-add", "POST"): lambda a, b: {
        "end_user_id": a.end_user_id,
        "monthly_spend_cap": "5",
    },
}
#: Answers other than a page of B's own: naming another tenant is a 404 (as in the matrix).
STATUS: dict[tuple[str, str], int] = {("portal:switch-tenant", "POST"): 404}

#: Filters that name A's rows: B's answer to each is B's own (none of A's).
FILTERS: dict[str, Callable[[TenantWorld], list[dict[str, Any]]]] = {
    "api:runs": lambda a: [
        {"end_user_id": a.end_user_id},
        {"status": list(RunStatus.values), "limit": 100},
    ],
    "billing_api:usage": lambda a: [{"end_user_id": a.end_user_id}, {"group_by": "end_user_id"}],
    "billing_api:limits": lambda a: [{"end_user_id": a.limit.end_user_id}],
    "portal:run-list": lambda a: [{"end_user": a.end_user_id}, {"q": a.word}],
    "portal:run-rows": lambda a: [{"end_user": a.end_user_id}, {"q": a.word}],
    "billing_portal:usage-csv": lambda a: [{}],
}

CASES = [(url.name, method) for url in no_object_urls() for method in url.methods()]


@pytest.mark.parametrize(("name", "method"), CASES, ids=[f"{n} {m}" for n, m in CASES])
def test_own_page_shows_and_changes_nothing_of_another_tenants(
    a: TenantWorld, b: TenantWorld, name: str, method: str
) -> None:
    url = next(url for url in no_object_urls() if url.name == name)
    before = snapshot(a.tenant)
    data = BODIES.get((name, method), lambda a, b: {})(a, b)
    queries = FILTERS.get(name, lambda a: [])(a) if method == "GET" else []
    for query in [data, *queries]:
        response = send(client_for(url, b), method, reverse(name), query)
        assert response.status_code == STATUS.get((name, method), response.status_code)
        assert response.status_code < 500
        assert leaked(response, a, sent=json.dumps(query, default=str)) == set(), query
    assert snapshot(a.tenant) == before


def test_filters_by_another_tenants_end_user_find_nothing(a: TenantWorld, b: TenantWorld) -> None:
    runs = b.api().get(reverse("api:runs"), {"end_user_id": a.end_user_id})
    assert runs.json()["results"] == []
    page = b.portal().get(reverse("portal:run-list"), {"end_user": a.end_user_id})
    assert list(page.context["runs"]) == []
    page = b.portal().get(reverse("portal:run-list"), {"q": a.word})
    assert list(page.context["runs"]) == []


SHARED_END_USER = "shared-end-user"

LIST_QUERIES: dict[str, dict[str, Any]] = {
    "no-filter": {},
    "status": {"status": "queued"},
    "every-status": {"status": list(RunStatus.values)},
    "end-user": {"end_user_id": SHARED_END_USER},
    "created-after": {"created_after": "2000-01-01T00:00:00Z"},
    "created-before": {"created_before": "2999-01-01T00:00:00Z"},
    "all-filters": {
        "status": ["queued", "canceled"],
        "end_user_id": SHARED_END_USER,
        "created_after": "2000-01-01T00:00:00Z",
        "created_before": "2999-01-01T00:00:00Z",
    },
    "limit-1": {"limit": 1},
    "limit-100": {"limit": 100},
}


def listed(client: APIClient, query: dict[str, Any]) -> list[str]:
    """Every run id the API lists for ``query``, page after page."""
    seen: list[str] = []
    response = client.get(reverse("api:runs"), query)
    while True:
        assert response.status_code == 200, response.content
        seen += [run["id"] for run in response.json()["results"]]
        if not response.json()["next"]:
            return seen
        response = client.get(response.json()["next"])


def shared(world: TenantWorld) -> str:
    """A run of ``world``'s made through its API, for the end user both tenants have."""
    response = world.api().post(
        reverse("api:runs"),
        {"prompt": f"{world.word} shared", "end_user_id": SHARED_END_USER},
        format="json",
    )
    assert response.status_code == 201
    return str(response.json()["id"])


@pytest.mark.parametrize("query", LIST_QUERIES.values(), ids=LIST_QUERIES.keys())
def test_list_never_shows_another_tenants_runs(
    a: TenantWorld, b: TenantWorld, query: dict[str, Any]
) -> None:
    """Filtered or not, paged by one or by a hundred, the API lists the key's own runs:
    the queued run each made for the end user both share among them, the other's never."""
    made = {a.word: shared(a), b.word: shared(b)}
    for world in (a, b):
        seen = listed(world.api(), query)
        own = {
            str(pk) for pk in Run.objects.filter(tenant=world.tenant).values_list("pk", flat=True)
        }
        assert len(seen) == len(set(seen))
        assert made[world.word] in seen
        assert set(seen) <= own
        if not set(query) - {"limit"}:
            assert set(seen) == own


def test_list_filtered_to_another_tenants_status_is_empty(a: TenantWorld, b: TenantWorld) -> None:
    Run.objects.filter(tenant=b.tenant, status=RunStatus.FAILED).update(status=RunStatus.CANCELED)
    response = b.api().get(reverse("api:runs"), {"status": "failed"})
    assert response.json()["results"] == []


def test_created_run_belongs_to_the_keys_tenant(a: TenantWorld, b: TenantWorld) -> None:
    assert Run.objects.get(pk=shared(a)).tenant == a.tenant
    assert Run.objects.get(pk=shared(b)).tenant == b.tenant


def test_tenant_scoped_queryset_refuses_an_unsaved_tenant(db: None) -> None:
    with pytest.raises(ValueError, match="saved tenant"):
        Run.objects.for_tenant(Tenant(slug="ghost", name="Ghost"))


def test_another_tenants_idempotency_key_makes_a_run_of_ones_own(
    a: TenantWorld, b: TenantWorld
) -> None:
    """The key is A's, the body another: for B it is a new key, never A's run nor a 422."""
    before = snapshot(a.tenant)
    response = b.api().post(
        reverse("api:runs"),
        {"prompt": "bumblebee own", "end_user_id": b.end_user_id},
        format="json",
        HTTP_IDEMPOTENCY_KEY=idempotency_key(a.word),
    )
    assert response.status_code == 201
    assert Run.objects.get(pk=response.json()["id"]).tenant == b.tenant
    assert leaked(response, a) == set()
    assert snapshot(a.tenant) == before
