"""A tenant never sees, nor touches, another tenant's runs: 404 as if they did not exist."""

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from seedance.models import Run, Tenant
from seedance.states import RunStatus

RUNS_URL = "/api/v1/runs"
SHARED_END_USER = "shared-end-user"
NOT_FOUND = {"error": {"code": "not_found", "message": "Not found.", "fields": {}}}


@pytest.fixture
def mine(api_client: APIClient) -> dict[str, Any]:
    response = api_client.post(
        RUNS_URL, {"prompt": "mine", "end_user_id": SHARED_END_USER}, format="json"
    )
    assert response.status_code == 201
    return response.json()


@pytest.fixture
def theirs(other_api_client: APIClient) -> dict[str, Any]:
    response = other_api_client.post(
        RUNS_URL, {"prompt": "theirs", "end_user_id": SHARED_END_USER}, format="json"
    )
    assert response.status_code == 201
    return response.json()


ById = Callable[[APIClient, str], Any]

BY_ID_ENDPOINTS: dict[str, ById] = {
    "detail": lambda client, run_id: client.get(f"{RUNS_URL}/{run_id}"),
    "cancel": lambda client, run_id: client.post(f"{RUNS_URL}/{run_id}/cancel"),
    "detail-uppercase-id": lambda client, run_id: client.get(f"{RUNS_URL}/{run_id.upper()}"),
    "cancel-uppercase-id": lambda client, run_id: client.post(
        f"{RUNS_URL}/{run_id.upper()}/cancel"
    ),
}


@pytest.mark.parametrize("endpoint", BY_ID_ENDPOINTS.values(), ids=BY_ID_ENDPOINTS.keys())
def test_another_tenants_run_is_not_found(
    api_client: APIClient, mine: dict[str, Any], theirs: dict[str, Any], endpoint: ById
) -> None:
    response = endpoint(api_client, theirs["id"])
    assert response.status_code == 404
    assert response.json() == NOT_FOUND
    # Nothing of theirs changed, and their own key still sees it.
    run = Run.objects.get(pk=theirs["id"])
    assert run.status == RunStatus.QUEUED
    assert run.failure_code == ""


@pytest.mark.parametrize("endpoint", BY_ID_ENDPOINTS.values(), ids=BY_ID_ENDPOINTS.keys())
def test_each_tenant_reaches_its_own_run(
    api_client: APIClient,
    other_api_client: APIClient,
    mine: dict[str, Any],
    theirs: dict[str, Any],
    endpoint: ById,
) -> None:
    assert endpoint(api_client, mine["id"]).status_code == 200
    assert endpoint(other_api_client, theirs["id"]).status_code == 200


@pytest.mark.parametrize("status", [RunStatus.SUCCEEDED, RunStatus.CANCELED])
def test_finished_run_of_another_tenant_is_not_found_either(
    api_client: APIClient, theirs: dict[str, Any], status: str
) -> None:
    Run.objects.filter(pk=theirs["id"]).update(status=status)
    for endpoint in BY_ID_ENDPOINTS.values():
        assert endpoint(api_client, theirs["id"]).status_code == 404


def test_not_found_looks_the_same_as_a_run_that_never_existed(
    api_client: APIClient, theirs: dict[str, Any]
) -> None:
    foreign = api_client.get(f"{RUNS_URL}/{theirs['id']}")
    missing = api_client.get(f"{RUNS_URL}/00000000-0000-4000-8000-000000000000")
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json() == missing.json()


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


@pytest.mark.parametrize("query", LIST_QUERIES.values(), ids=LIST_QUERIES.keys())
def test_list_never_shows_another_tenants_runs(
    api_client: APIClient,
    other_api_client: APIClient,
    mine: dict[str, Any],
    theirs: dict[str, Any],
    query: dict[str, Any],
) -> None:
    for client, own, foreign in ((api_client, mine, theirs), (other_api_client, theirs, mine)):
        seen: list[str] = []
        response = client.get(RUNS_URL, query)
        while True:
            assert response.status_code == 200, response.content
            seen += [run["id"] for run in response.json()["results"]]
            if not response.json()["next"]:
                break
            response = client.get(response.json()["next"])
        assert foreign["id"] not in seen
        assert seen == [own["id"]]


def test_list_filtered_to_another_tenants_status_is_empty(
    api_client: APIClient, mine: dict[str, Any], theirs: dict[str, Any]
) -> None:
    Run.objects.filter(pk=theirs["id"]).update(status=RunStatus.FAILED)
    response = api_client.get(RUNS_URL, {"status": "failed"})
    assert response.json()["results"] == []


def test_cancel_of_another_tenants_run_leaves_it_cancelable_by_its_owner(
    api_client: APIClient, other_api_client: APIClient, theirs: dict[str, Any]
) -> None:
    assert api_client.post(f"{RUNS_URL}/{theirs['id']}/cancel").status_code == 404
    response = other_api_client.post(f"{RUNS_URL}/{theirs['id']}/cancel")
    assert response.status_code == 200
    assert response.json()["status"] == "canceled"


def test_created_run_belongs_to_the_keys_tenant(
    mine: dict[str, Any], theirs: dict[str, Any], tenant: Tenant, other_tenant: Tenant
) -> None:
    assert Run.objects.get(pk=mine["id"]).tenant == tenant
    assert Run.objects.get(pk=theirs["id"]).tenant == other_tenant


def test_tenant_scoped_queryset_refuses_an_unsaved_tenant(db: None) -> None:
    with pytest.raises(ValueError, match="saved tenant"):
        Run.objects.for_tenant(Tenant(slug="ghost", name="Ghost"))
