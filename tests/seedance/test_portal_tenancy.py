"""Which tenant a person works in: the session's, else the one they used last, else their
only one, else their choice on a page; never the first by name. Switching is explicit."""

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from seedance.models import Membership, Tenant
from seedance.portal.access import LAST_USED_RESOLUTION_SECONDS
from tests.factories import make_person, make_run

pytestmark = pytest.mark.django_db

PASSWORD = "pw-for-tests-123"
LIST_URL = reverse("portal:run-list")
SWITCH_URL = reverse("portal:switch-tenant")


@pytest.fixture
def person(db: None) -> Any:
    return make_person("mia", "mia@example.com", PASSWORD)


def join(person: Any, tenant: Tenant, *, used_minutes_ago: int | None = None) -> Membership:
    last_used = (
        timezone.now() - timedelta(minutes=used_minutes_ago)
        if used_minutes_ago is not None
        else None
    )
    return Membership.objects.create(user=person, tenant=tenant, last_used_at=last_used)


def sign_in(client: Client, login: str = "mia") -> Any:
    """Through allauth's form, as a person does: the answer is where sign-in lands."""
    return client.post(
        reverse("account_login"), {"login": login, "password": PASSWORD}, follow=True
    )


def working_in(client: Client) -> Tenant:
    return client.get(LIST_URL).context["membership"].tenant


def test_sign_in_lands_on_the_last_used_tenant(
    client: Client, person: Any, tenant: Tenant, other_tenant: Tenant
) -> None:
    join(person, tenant, used_minutes_ago=60)
    join(person, other_tenant, used_minutes_ago=5)
    landed = sign_in(client)
    assert landed.redirect_chain[-1][0] == LIST_URL
    assert landed.context["membership"].tenant == other_tenant


def test_renaming_a_tenant_changes_nothing_about_where_anyone_lands(
    client: Client, person: Any, tenant: Tenant, other_tenant: Tenant
) -> None:
    """The issue's case: "000 ..." sorted first and drew another person into it."""
    join(person, tenant, used_minutes_ago=60)
    join(person, other_tenant, used_minutes_ago=5)
    Tenant.objects.filter(pk=tenant.pk).update(name="000 Acme")
    assert sign_in(client).context["membership"].tenant == other_tenant


def test_several_tenants_never_used_are_chosen_on_a_page_not_by_name(
    client: Client, person: Any, tenant: Tenant, other_tenant: Tenant
) -> None:
    join(person, tenant)
    join(person, other_tenant)
    landed = sign_in(client)
    assert landed.redirect_chain[-1][0] == SWITCH_URL
    html = landed.content.decode()
    assert "Choose a tenant" in html
    assert html.count('class="button secondary open-tenant"') == 2
    # Any portal page asks the same, and comes back after the choice.
    asked = client.get(reverse("portal:run-create"))
    assert asked["Location"] == f"{SWITCH_URL}?next=%2Fruns%2Fnew%2F"
    chosen = client.post(SWITCH_URL, {"tenant": other_tenant.pk, "next": "/runs/new/"})
    assert chosen["Location"] == "/runs/new/"
    assert working_in(client) == other_tenant


def test_the_only_tenant_opens_without_a_choice(
    client: Client, person: Any, tenant: Tenant
) -> None:
    join(person, tenant)
    assert sign_in(client).context["membership"].tenant == tenant
    assert Membership.objects.get(user=person).last_used_at is not None


def test_switching_is_remembered_for_the_next_sign_in(
    client: Client, person: Any, tenant: Tenant, other_tenant: Tenant
) -> None:
    join(person, tenant, used_minutes_ago=1)
    join(person, other_tenant, used_minutes_ago=60)
    sign_in(client)
    assert working_in(client) == tenant
    client.post(SWITCH_URL, {"tenant": other_tenant.pk})
    assert working_in(client) == other_tenant

    client.post(reverse("account_logout"))
    assert sign_in(client).context["membership"].tenant == other_tenant


def test_a_tenant_left_in_the_session_falls_back_to_the_last_used_other(
    client: Client, person: Any, tenant: Tenant, other_tenant: Tenant
) -> None:
    third = Tenant.objects.create(slug="initech", name="Initech")
    join(person, tenant, used_minutes_ago=30)
    join(person, other_tenant, used_minutes_ago=10)
    join(person, third)
    client.force_login(person)
    client.post(SWITCH_URL, {"tenant": tenant.pk})
    Membership.objects.filter(user=person, tenant=tenant).delete()
    assert working_in(client) == other_tenant


def test_last_used_is_written_at_most_once_a_minute(
    client: Client, person: Any, tenant: Tenant
) -> None:
    membership = join(person, tenant)
    client.force_login(person)
    client.get(LIST_URL)
    membership.refresh_from_db()
    first = membership.last_used_at
    assert first is not None
    client.get(LIST_URL)
    membership.refresh_from_db()
    assert membership.last_used_at == first
    stale = timezone.now() - timedelta(seconds=LAST_USED_RESOLUTION_SECONDS + 1)
    Membership.objects.filter(pk=membership.pk).update(last_used_at=stale)
    client.get(LIST_URL)
    membership.refresh_from_db()
    assert membership.last_used_at > stale


def test_the_switch_page_lists_the_persons_tenants_with_an_open_button_each(
    client: Client, person: Any, tenant: Tenant, other_tenant: Tenant
) -> None:
    join(person, tenant, used_minutes_ago=1)
    join(person, other_tenant)
    Tenant.objects.create(slug="initech", name="Initech")
    client.force_login(person)
    page = client.get(SWITCH_URL)
    html = page.content.decode()
    assert "Switch tenant" in html
    assert [m.tenant for m in page.context["memberships"]] == [tenant, other_tenant]
    assert "Initech" not in html
    assert f'name="tenant" value="{other_tenant.pk}"' in html


def test_the_layout_links_the_switch_page_and_has_no_auto_submitting_select(
    client: Client, person: Any, tenant: Tenant, other_tenant: Tenant
) -> None:
    join(person, tenant, used_minutes_ago=1)
    join(person, other_tenant)
    client.force_login(person)
    html = client.get(LIST_URL).content.decode()
    assert f'href="{SWITCH_URL}?next=/runs/" id="switch-tenant-link"' in html
    assert 'id="tenant-switch"' not in html
    assert "onchange" not in html
    assert '<span class="tenant-name" id="current-tenant">Acme</span>' in html


def test_switching_back_to_a_page_of_one_object_goes_to_the_runs_list(
    client: Client, person: Any, tenant: Tenant, other_tenant: Tenant
) -> None:
    join(person, tenant, used_minutes_ago=1)
    join(person, other_tenant)
    run = make_run(tenant, created_by=person)
    client.force_login(person)
    for unsafe in (
        reverse("portal:run-detail", args=[run.pk]),
        "https://elsewhere.example/runs/",
        SWITCH_URL,
        "",
    ):
        response = client.post(SWITCH_URL, {"tenant": other_tenant.pk, "next": unsafe})
        assert response["Location"] == LIST_URL, unsafe


def test_a_polled_fragment_without_a_tenant_redirects_the_whole_page(
    client: Client, person: Any
) -> None:
    client.force_login(person)
    response = client.get(reverse("portal:run-rows"), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert response["HX-Redirect"] == reverse("portal:home")
