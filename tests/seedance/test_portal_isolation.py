"""A person sees their scope only: their own runs as a member, the tenant's as an admin,
and a 404 (never another tenant's data) for anything else, on every portal URL."""

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from seedance.models import Membership, Run, Tenant
from seedance.states import RunStatus
from tests.factories import make_run

LIST_URL = reverse("portal:run-list")


def make_person(django_user_model: Any, name: str, tenant: Tenant, role: str) -> Any:
    user = django_user_model.objects.create_user(name, f"{name}@example.com", "pw-12345678")
    Membership.objects.create(user=user, tenant=tenant, role=role)
    return user


@pytest.fixture
def member(django_user_model: Any, tenant: Tenant) -> Any:
    return make_person(django_user_model, "mia", tenant, Membership.Role.MEMBER)


@pytest.fixture
def colleague(django_user_model: Any, tenant: Tenant) -> Any:
    return make_person(django_user_model, "cole", tenant, Membership.Role.MEMBER)


@pytest.fixture
def tenant_admin(django_user_model: Any, tenant: Tenant) -> Any:
    return make_person(django_user_model, "ann", tenant, Membership.Role.ADMIN)


@pytest.fixture
def outsider_admin(django_user_model: Any, other_tenant: Tenant) -> Any:
    return make_person(django_user_model, "otto", other_tenant, Membership.Role.ADMIN)


def listed(client: Client) -> set[Any]:
    response = client.get(LIST_URL)
    assert response.status_code == 200
    return {run.pk for run in response.context["runs"]}


def test_a_member_sees_only_their_own_runs(
    client: Client, member: Any, colleague: Any, tenant: Tenant
) -> None:
    mine = make_run(tenant, created_by=member)
    make_run(tenant, created_by=colleague)
    make_run(tenant, end_user_id="42")  # an API run
    client.force_login(member)
    assert listed(client) == {mine.pk}


def test_a_tenant_admin_sees_all_the_tenants_runs(
    client: Client, member: Any, tenant_admin: Any, tenant: Tenant, other_tenant: Tenant
) -> None:
    theirs = make_run(tenant, created_by=member)
    api_run = make_run(tenant, end_user_id="42")
    make_run(other_tenant)
    client.force_login(tenant_admin)
    assert listed(client) == {theirs.pk, api_run.pk}
    assert client.get(reverse("portal:run-detail", args=[theirs.pk])).status_code == 200


RunUrl = Callable[[Client, Any], Any]

BY_ID: dict[str, RunUrl] = {
    "detail": lambda c, pk: c.get(reverse("portal:run-detail", args=[pk])),
    "status-fragment": lambda c, pk: c.get(reverse("portal:run-status", args=[pk])),
    "cancel": lambda c, pk: c.post(reverse("portal:run-cancel", args=[pk])),
    "make-again": lambda c, pk: c.get(reverse("portal:run-create"), {"from": str(pk)}),
}


@pytest.mark.parametrize("request_url", BY_ID.values(), ids=BY_ID.keys())
def test_another_tenants_run_is_404_on_every_portal_url(
    client: Client, outsider_admin: Any, member: Any, tenant: Tenant, request_url: RunUrl
) -> None:
    theirs = make_run(tenant, created_by=member)
    client.force_login(outsider_admin)
    response = request_url(client, theirs.pk)
    assert response.status_code == 404
    assert theirs.prompt.encode() not in response.content
    theirs.refresh_from_db()
    assert theirs.status == RunStatus.QUEUED


@pytest.mark.parametrize("request_url", BY_ID.values(), ids=BY_ID.keys())
def test_a_colleagues_run_is_404_for_a_member(
    client: Client, member: Any, colleague: Any, tenant: Tenant, request_url: RunUrl
) -> None:
    theirs = make_run(tenant, created_by=colleague)
    client.force_login(member)
    assert request_url(client, theirs.pk).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == RunStatus.QUEUED


@pytest.mark.parametrize("request_url", BY_ID.values(), ids=BY_ID.keys())
def test_an_unknown_or_malformed_run_id_is_404(
    client: Client, member: Any, request_url: RunUrl
) -> None:
    client.force_login(member)
    assert request_url(client, "00000000-0000-0000-0000-000000000000").status_code == 404
    if request_url is BY_ID["make-again"]:
        assert request_url(client, "not-a-uuid").status_code == 404


def test_switching_to_a_tenant_you_do_not_belong_to_is_404(
    client: Client, member: Any, tenant: Tenant, other_tenant: Tenant
) -> None:
    client.force_login(member)
    response = client.post(reverse("portal:switch-tenant"), {"tenant": other_tenant.pk})
    assert response.status_code == 404
    assert client.get(LIST_URL).context["membership"].tenant == tenant


def test_switching_tenants_shows_that_tenants_runs(
    client: Client, member: Any, tenant: Tenant, other_tenant: Tenant
) -> None:
    Membership.objects.filter(user=member).update(last_used_at=timezone.now())
    Membership.objects.create(user=member, tenant=other_tenant, role=Membership.Role.MEMBER)
    here = make_run(tenant, created_by=member)
    there = make_run(other_tenant, created_by=member)
    client.force_login(member)
    assert listed(client) == {here.pk}  # the tenant used last
    page = client.get(reverse("portal:switch-tenant")).content.decode()
    assert f'name="tenant" value="{other_tenant.pk}"' in page

    response = client.post(
        reverse("portal:switch-tenant"),
        {"tenant": other_tenant.pk, "next": reverse("portal:run-detail", args=[here.pk])},
    )
    assert response.status_code == 302
    assert response["Location"] == LIST_URL  # not back to a run of the old tenant
    assert listed(client) == {there.pk}
    assert client.get(reverse("portal:run-detail", args=[here.pk])).status_code == 404


def test_switch_goes_back_to_the_page_you_were_on(
    client: Client, member: Any, other_tenant: Tenant
) -> None:
    Membership.objects.create(user=member, tenant=other_tenant)
    client.force_login(member)
    back = reverse("portal:run-create")
    response = client.post(
        reverse("portal:switch-tenant"), {"tenant": other_tenant.pk, "next": back}
    )
    assert response["Location"] == back


def test_removed_membership_loses_access_at_the_next_request(
    client: Client, member: Any, tenant: Tenant
) -> None:
    run = make_run(tenant, created_by=member)
    client.force_login(member)
    assert client.get(reverse("portal:run-detail", args=[run.pk])).status_code == 200
    Membership.objects.filter(user=member).delete()
    response = client.get(reverse("portal:run-detail", args=[run.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:home")  # to make a tenant or be invited
    assert run.prompt not in client.get(reverse("portal:home"), follow=True).content.decode()
    assert not Run.objects.filter(pk=run.pk, status=RunStatus.CANCELED).exists()
