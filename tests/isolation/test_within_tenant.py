"""Inside one tenant a person sees their scope only: a member their own runs (a
colleague's is a 404 on every run URL), an admin all the tenant's; and a person works in
one tenant at a time, the one they chose among those they belong to."""

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from seedance.models import Membership, Run
from seedance.states import RunStatus
from tests.isolation.matrix import KWARG_IDS, QUERY_IDS, client_for, send, urls
from tests.isolation.snapshot import snapshot
from tests.isolation.world import TenantWorld

LIST_URL = reverse("portal:run-list")
#: The portal's URLs that name a run and nothing else: a member's scope is their runs.
RUN_URLS = [
    (url.name, method)
    for url in urls()
    if url.namespace in ("portal", "billing_portal") and url.kwargs == ("run_id",)
    for method in url.methods()
]


def listed(client: Client) -> set[Any]:
    response = client.get(LIST_URL)
    assert response.status_code == 200
    return {run.pk for run in response.context["runs"]}


def test_a_member_sees_only_their_own_runs(a: TenantWorld) -> None:
    assert listed(a.portal(a.member)) == {a.runs["members"].pk}


def test_a_tenant_admin_sees_all_the_tenants_runs(a: TenantWorld, b: TenantWorld) -> None:
    assert listed(a.portal()) == set(
        Run.objects.filter(tenant=a.tenant).values_list("pk", flat=True)
    )
    detail = reverse("portal:run-detail", args=[a.runs["members"].pk])
    assert a.portal().get(detail).status_code == 200


@pytest.mark.parametrize(("name", "method"), RUN_URLS, ids=[f"{n} {m}" for n, m in RUN_URLS])
def test_a_colleagues_run_is_404_for_a_member(a: TenantWorld, name: str, method: str) -> None:
    url = next(url for url in urls() if url.name == name)
    client = client_for(url, a, a.member)
    listed(client)  # signed in and working in A, before the snapshot
    before = snapshot(a.tenant)
    for run_id in KWARG_IDS["run_id"](a):
        if run_id == a.runs["members"].pk:
            continue
        response = send(client, method, reverse(name, args=[run_id]))
        assert response.status_code == 404, run_id
    assert snapshot(a.tenant) == before


def test_make_again_from_a_colleagues_run_is_404_for_a_member(a: TenantWorld) -> None:
    method, parameter, _ = QUERY_IDS["portal:run-create"]
    client = a.portal(a.member)
    assert (
        send(client, method, reverse("portal:run-create"), {parameter: a.run.pk}).status_code == 404
    )
    own = {parameter: a.runs["members"].pk}
    assert send(client, method, reverse("portal:run-create"), own).status_code == 200


def test_switching_to_a_tenant_you_do_not_belong_to_is_404(a: TenantWorld, b: TenantWorld) -> None:
    client = a.portal(a.member)
    response = client.post(reverse("portal:switch-tenant"), {"tenant": b.tenant.pk})
    assert response.status_code == 404
    assert client.get(LIST_URL).context["membership"].tenant == a.tenant


def test_switching_tenants_shows_that_tenants_runs(a: TenantWorld, b: TenantWorld) -> None:
    member = a.member
    Membership.objects.filter(user=member).update(last_used_at=timezone.now())
    Membership.objects.create(user=member, tenant=b.tenant, role=Membership.Role.MEMBER)
    here = a.runs["members"]
    there = Run.objects.create(
        tenant=b.tenant, created_by=member, prompt="there", deadline_at=timezone.now()
    )
    client = a.portal(member)
    assert listed(client) == {here.pk}  # the tenant used last
    page = client.get(reverse("portal:switch-tenant")).content.decode()
    assert f'name="tenant" value="{b.tenant.pk}"' in page

    response = client.post(
        reverse("portal:switch-tenant"),
        {"tenant": b.tenant.pk, "next": reverse("portal:run-detail", args=[here.pk])},
    )
    assert response.status_code == 302
    assert response["Location"] == LIST_URL  # not back to a run of the old tenant
    assert listed(client) == {there.pk}
    assert client.get(reverse("portal:run-detail", args=[here.pk])).status_code == 404


def test_switch_goes_back_to_the_page_you_were_on(a: TenantWorld, b: TenantWorld) -> None:
    Membership.objects.create(user=a.member, tenant=b.tenant)
    back = reverse("portal:run-create")
    response = a.portal(a.member).post(
        reverse("portal:switch-tenant"), {"tenant": b.tenant.pk, "next": back}
    )
    assert response["Location"] == back


def test_removed_membership_loses_access_at_the_next_request(a: TenantWorld) -> None:
    run = a.runs["members"]
    client = a.portal(a.member)
    assert client.get(reverse("portal:run-detail", args=[run.pk])).status_code == 200
    Membership.objects.filter(user=a.member).delete()
    response = client.get(reverse("portal:run-detail", args=[run.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:home")  # to make a tenant or be invited
    assert run.prompt not in client.get(reverse("portal:home"), follow=True).content.decode()
    assert Run.objects.get(pk=run.pk).status == RunStatus.QUEUED
