"""The runs list's history filters: status with dates, prompt search and (tenant admins
only) end user; a bad value is a field error on the page, never a 500."""

from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from seedance.models import Membership, Run, Tenant
from seedance.states import RunStatus
from tests.factories import make_run

LIST_URL = reverse("portal:run-list")


def _member(django_user_model: Any, tenant: Tenant, name: str, role: str) -> Any:
    user = django_user_model.objects.create_user(name, f"{name}@example.com", "s3cret-pass!")
    Membership.objects.create(user=user, tenant=tenant, role=role)
    return user


@pytest.fixture
def admin(django_user_model: Any, tenant: Tenant) -> Any:
    return _member(django_user_model, tenant, "ada", Membership.Role.ADMIN)


@pytest.fixture
def member(django_user_model: Any, tenant: Tenant) -> Any:
    return _member(django_user_model, tenant, "bob", Membership.Role.MEMBER)


def _run_on(tenant: Tenant, day: int, **fields: Any) -> Run:
    run = make_run(tenant, **fields)
    Run.objects.filter(pk=run.pk).update(created_at=datetime(2026, 11, day, 12, tzinfo=UTC))
    return run


def _listed(client: Client, **query: str) -> list[Run]:
    response = client.get(LIST_URL, query)
    assert response.status_code == 200
    return list(response.context["runs"])


def test_prompt_search_finds_runs_whose_prompt_contains_the_words(
    client: Client, admin: Any, tenant: Tenant
) -> None:
    fox = make_run(tenant, created_by=admin, prompt="A red FOX in snow")
    make_run(tenant, created_by=admin, prompt="A lighthouse")
    client.force_login(admin)
    assert _listed(client, q="fox") == [fox]


def test_date_range_includes_both_utc_days(client: Client, admin: Any, tenant: Tenant) -> None:
    runs = {day: _run_on(tenant, day, created_by=admin) for day in (1, 2, 3, 4)}
    client.force_login(admin)
    found = _listed(client, created_after="2026-11-02", created_before="2026-11-03")
    assert found == [runs[3], runs[2]]


def test_filters_combine_with_the_status_and_the_status_links_keep_them(
    client: Client, admin: Any, tenant: Tenant
) -> None:
    make_run(tenant, created_by=admin, prompt="fox queued")
    done = make_run(tenant, created_by=admin, prompt="fox done", status=RunStatus.FAILED)
    client.force_login(admin)
    assert _listed(client, q="fox", status=RunStatus.FAILED) == [done]
    assert "status=failed&q=fox" in client.get(LIST_URL, {"q": "fox"}).content.decode()


def test_end_user_filter_is_for_tenant_admins(
    client: Client, admin: Any, member: Any, tenant: Tenant
) -> None:
    theirs = make_run(tenant, created_by=admin, end_user_id="cust-7")
    make_run(tenant, created_by=admin, end_user_id="cust-8")
    client.force_login(admin)
    assert _listed(client, end_user="cust-7") == [theirs]
    assert 'name="end_user"' in client.get(LIST_URL).content.decode()

    own = make_run(tenant, created_by=member, end_user_id="cust-8")
    client.force_login(member)
    assert 'name="end_user"' not in client.get(LIST_URL).content.decode()
    assert _listed(client, end_user="cust-7") == [own]  # ignored: a member sees only theirs


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"created_after": "yesterday"}, "created_after"),
        ({"created_before": "2026-13-40"}, "created_before"),
        ({"created_after": "2026-11-05", "created_before": "2026-11-01"}, "created_before"),
        ({"q": "x" * 201}, "q"),
    ],
)
def test_bad_filter_value_is_a_field_error_not_a_500(
    client: Client, admin: Any, tenant: Tenant, query: dict[str, str], field: str
) -> None:
    make_run(tenant, created_by=admin)
    client.force_login(admin)
    response = client.get(LIST_URL, query)
    assert response.status_code == 200
    assert f'id="{field}-error"' in response.content.decode()
    assert response.context["runs"] == []


def test_other_tenants_runs_never_match_a_filter(
    client: Client, admin: Any, tenant: Tenant, other_tenant: Tenant
) -> None:
    make_run(other_tenant, prompt="fox elsewhere", end_user_id="cust-7")
    client.force_login(admin)
    assert _listed(client, q="fox") == []
    assert _listed(client, end_user="cust-7") == []
