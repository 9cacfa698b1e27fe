"""Tenant B, with its own key or its admin's or member's session, aimed at each of tenant
A's objects on every URL that names one, by every method the URL answers: not found (as an
id that never existed), nothing of A's in the answer, nothing of A's changed; A itself
reaches them."""

from typing import Any

import pytest
from django.urls import reverse

from seedance.models import Membership, WebhookAttempt
from tests.isolation.matrix import (
    API_NAMESPACES,
    BODIES,
    KWARG_IDS,
    QUERY_IDS,
    by_id_urls,
    client_for,
    kwarg_cases,
    leaked,
    missing,
    send,
    urls,
)
from tests.isolation.snapshot import snapshot
from tests.isolation.world import TenantWorld
from tests.urlwalk import NamedUrl

URLS = {url.name: url for url in urls()}
CASES = [(url.name, method) for url in by_id_urls() for method in url.methods()]
#: Tenant-owned kinds the world makes none of, and why no URL of a tenant's reaches them.
NOT_IN_THE_WORLD: dict[str, str] = {
    "billing.BillingDifference": "staff's reconciliation record, shown in the admin only",
    "seedance.RunDiscrepancy": "staff's reconciliation record, shown in the admin only",
    "billing.CapNotice": "the once-only guard of a cap webhook event; the event is a delivery",
    "billing.SubscriptionItem": "Stripe's item ids, read by the meter push only",
}
#: The API's one answer for a missing or foreign object (seedance.api.errors).
NOT_FOUND = {"error": {"code": "not_found", "message": "Not found.", "fields": {}}}


@pytest.mark.parametrize(("name", "method"), CASES, ids=[f"{n} {m}" for n, m in CASES])
def test_another_tenants_object_is_not_found_and_unchanged(
    a: TenantWorld, b: TenantWorld, name: str, method: str
) -> None:
    url = URLS[name]
    body = BODIES.get((name, method), {})
    before = snapshot(a.tenant)
    nothing = {key: missing(KWARG_IDS[key](a)[0]) for key in url.kwargs}
    for client in attackers(url, b):
        never = send(client, method, reverse(name, kwargs=nothing), body)
        for kwargs in kwarg_cases(url, a, b):
            path = reverse(name, kwargs=kwargs)
            response = send(client, method, path, body)
            assert response.status_code == never.status_code == 404, kwargs
            assert leaked(response, a, sent=path) == set(), kwargs
            if url.namespace in API_NAMESPACES:
                assert response.json() == never.json()
            if url.namespace in ("api", "billing_api"):
                assert response.json() == NOT_FOUND
    assert snapshot(a.tenant) == before

    # The ids are A's real objects: A's own key or admin (or invitee) reaches them.
    own = client_for(url, a, a.invitee if "invitation_id" in url.kwargs else None)
    first = {key: KWARG_IDS[key](a)[0] for key in url.kwargs}
    assert send(own, method, reverse(name, kwargs=first), body).status_code != 404


def attackers(url: NamedUrl, b: TenantWorld) -> list[Any]:
    """B's key for the API; B's admin and B's member for the portal's pages."""
    if url.namespace in API_NAMESPACES:
        return [b.api()]
    return [b.portal(), b.portal(b.member)]


PORTAL_CASES = [
    (name, method) for name, method in CASES if URLS[name].namespace not in API_NAMESPACES
]


@pytest.mark.parametrize(
    ("name", "method"), PORTAL_CASES, ids=[f"{n} {m}" for n, m in PORTAL_CASES]
)
def test_working_in_another_tenant_hides_this_ones_objects(
    a: TenantWorld, b: TenantWorld, name: str, method: str
) -> None:
    """A person who is A's admin too, working in B: A's objects are not found until they
    switch to A (the session's chosen tenant scopes every page, not every membership)."""
    url = URLS[name]
    Membership.objects.create(user=b.admin, tenant=a.tenant, role=Membership.Role.ADMIN)
    client = b.portal()
    assert client.post(reverse("portal:switch-tenant"), {"tenant": b.tenant.pk}).status_code == 302
    body = BODIES.get((name, method), {})
    known = {a.word, a.tenant.name}  # the tenant switcher names the person's tenants
    before = snapshot(a.tenant)
    for kwargs in kwarg_cases(url, a, b):
        path = reverse(name, kwargs=kwargs)
        response = send(client, method, path, body)
        assert response.status_code == 404, (kwargs, response.status_code)
        assert leaked(response, a, sent=path) - known == set(), kwargs
    assert snapshot(a.tenant) == before
    if "invitation_id" not in url.kwargs:  # an invitation is its invitee's, not an admin's
        client.post(reverse("portal:switch-tenant"), {"tenant": a.tenant.pk})
        first = {key: KWARG_IDS[key](a)[0] for key in url.kwargs}
        assert send(client, method, reverse(name, kwargs=first), body).status_code != 404


QUERY_CASES = list(QUERY_IDS.items())


@pytest.mark.parametrize(("name", "query"), QUERY_CASES, ids=[n for n, _ in QUERY_CASES])
def test_another_tenants_object_named_in_the_query_is_not_found(
    a: TenantWorld, b: TenantWorld, name: str, query: tuple[str, str, str]
) -> None:
    method, parameter, kind = query
    url = URLS[name]
    before = snapshot(a.tenant)
    for value in KWARG_IDS[kind](a):
        response = send(client_for(url, b), method, reverse(name), {parameter: str(value)})
        assert response.status_code == 404
        assert leaked(response, a, sent=str(value)) == set()
    for nothing in (missing(value), "not-a-uuid"):
        response = send(client_for(url, b), method, reverse(name), {parameter: str(nothing)})
        assert response.status_code == 404
    assert snapshot(a.tenant) == before
    own = send(client_for(url, a), method, reverse(name), {parameter: str(a.run.pk)})
    assert own.status_code == 200


def test_each_tenant_reaches_its_own_objects_on_every_get(a: TenantWorld, b: TenantWorld) -> None:
    """The mirror of the matrix: B's key and admin reach B's objects as A's reach A's."""
    for url in by_id_urls():
        if "GET" not in url.methods():
            continue
        for world in (a, b):
            first: dict[str, Any] = {key: KWARG_IDS[key](world)[0] for key in url.kwargs}
            response = client_for(url, world).get(reverse(url.name, kwargs=first))
            assert response.status_code == 200, (url.name, world.word)


def test_cancel_of_another_tenants_run_leaves_it_cancelable_by_its_owner(
    a: TenantWorld, b: TenantWorld
) -> None:
    url = reverse("api:run-cancel", args=[a.runs["queued"].pk])
    assert b.api().post(url).status_code == 404
    response = a.api().post(url)
    assert response.status_code == 200
    assert response.json()["status"] == "canceled"


def test_the_snapshot_sees_a_change_to_the_deepest_rows(a: TenantWorld) -> None:
    before = snapshot(a.tenant)
    WebhookAttempt.objects.filter(delivery=a.delivery).update(latency_ms=99)
    assert snapshot(a.tenant) != before


def test_the_world_has_rows_of_every_kind_a_tenant_owns(a: TenantWorld) -> None:
    """So that the snapshot, and the pages B is shown, have A's rows of every kind to lose."""
    empty = {label for label, rows in snapshot(a.tenant).items() if not rows}
    assert empty == set(NOT_IN_THE_WORLD)
