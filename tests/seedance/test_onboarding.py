"""A signed-up person with no tenant is led to make one (or to their invitations); the
tenant, its founder as admin and a first API key are made at once, the key shown once."""

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.dispatch import receiver
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from seedance.audit import Actor
from seedance.exceptions import TenantChangeRefused
from seedance.models import ApiKey, Invitation, Membership, Tenant
from seedance.portal import extensions
from seedance.portal.extensions import Panel, register_panel
from seedance.services.members import invitation_create
from seedance.services.tenants import tenant_create
from seedance.signals import tenant_created
from tests.factories import make_person

pytestmark = pytest.mark.django_db

CREATE_URL = reverse("portal:tenant-create")
TEMPLATES = Path(__file__).parent / "templates"


@pytest.fixture
def newcomer(db: None) -> Any:
    return make_person("nia", "nia@example.com")


@pytest.fixture
def signed_in(client: Client, newcomer: Any) -> Client:
    client.force_login(newcomer)
    return client


@pytest.fixture
def panels() -> Iterator[None]:
    saved = dict(extensions._panels)
    yield
    extensions._panels.clear()
    extensions._panels.update(saved)


def create_form(client: Client) -> dict[str, str]:
    """The form as the page serves it: its one-time nonce included."""
    form = client.get(CREATE_URL).context["form"]
    return {"name": "Lumen Studio", "nonce": form.initial["nonce"]}


def shown_key(html: str) -> str | None:
    found = re.search(r'id="new-api-key">([^<]+)<', html)
    return found.group(1).strip() if found else None


def test_a_person_with_no_tenant_is_sent_to_create_one(signed_in: Client) -> None:
    response = signed_in.get(reverse("portal:home"))
    assert response["Location"] == CREATE_URL
    assert signed_in.get(reverse("portal:run-list"))["Location"] == reverse("portal:home")
    page = signed_in.get(CREATE_URL)
    assert page.status_code == 200
    assert 'id="tenant-create-form"' in page.content.decode()


def test_a_person_with_a_pending_invitation_is_sent_to_it(
    signed_in: Client, tenant: Tenant
) -> None:
    inviter = make_person("ada", "ada@example.com")
    invitation_create(
        tenant=tenant, email="NIA@example.com", role="member", actor=Actor.tenant_admin(inviter)
    )
    response = signed_in.get(reverse("portal:home"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("portal:switch-tenant")
    assert [i.tenant for i in response.context["invitations"]] == [tenant]
    assert 'class="accept-invitation"' in response.content.decode()


def test_tenant_create_makes_the_tenant_its_founder_admin_and_a_first_key(newcomer: Any) -> None:
    created = tenant_create(founder=newcomer, name="  Lumen   Studio ")
    tenant = Tenant.objects.get()
    assert (tenant.name, tenant.slug) == ("Lumen Studio", "lumen-studio")
    membership = Membership.objects.get(tenant=tenant)
    assert (membership.user, membership.role, membership.joined_via) == (
        newcomer,
        "admin",
        "founder",
    )
    assert list(ApiKey.objects.for_tenant(tenant)) == [created.key.api_key]
    assert created.key.secret.startswith(created.key.api_key.prefix)


def test_tenant_create_is_all_or_nothing(newcomer: Any) -> None:
    @receiver(tenant_created, dispatch_uid="test.refuse")
    def refuse(**kwargs: Any) -> None:
        raise RuntimeError("a receiver failed")

    try:
        with pytest.raises(RuntimeError):
            tenant_create(founder=newcomer, name="Lumen")
    finally:
        tenant_created.disconnect(dispatch_uid="test.refuse")
    assert not Tenant.objects.exists()
    assert not Membership.objects.exists()
    assert not ApiKey.objects.exists()


def test_tenant_created_is_sent_with_the_tenant_and_its_founder(newcomer: Any) -> None:
    seen: list[tuple[Any, Any]] = []

    def record(*, tenant: Tenant, founder: Any, **kwargs: Any) -> None:
        seen.append((tenant, founder))

    tenant_created.connect(record, dispatch_uid="test.record")
    try:
        created = tenant_create(founder=newcomer, name="Lumen")
    finally:
        tenant_created.disconnect(dispatch_uid="test.record")
    assert seen == [(created.tenant, newcomer)]


def test_the_slug_is_derived_from_the_name_and_made_unique(newcomer: Any) -> None:
    Tenant.objects.create(slug="acme", name="Acme")
    assert tenant_create(founder=newcomer, name="ACME").tenant.slug == "acme-2"
    assert tenant_create(founder=newcomer, name="Acme!").tenant.slug == "acme-3"
    assert tenant_create(founder=newcomer, name="日本").tenant.slug == "tenant"


@pytest.mark.parametrize("name", ["", "   ", "x" * 201])
def test_a_bad_name_is_refused_and_makes_nothing(newcomer: Any, name: str) -> None:
    with pytest.raises(TenantChangeRefused):
        tenant_create(founder=newcomer, name=name)
    assert not Tenant.objects.exists()


def test_the_create_page_shows_the_key_once_and_a_reload_makes_nothing_more(
    signed_in: Client, newcomer: Any
) -> None:
    form = create_form(signed_in)
    response = signed_in.post(CREATE_URL, form)
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    secret = shown_key(response.content.decode())
    assert secret is not None
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert api.get("/api/v1/runs").status_code == 200

    again = signed_in.post(CREATE_URL, form)  # the browser's reload resubmits the form
    html = again.content.decode()
    assert shown_key(html) is None
    assert secret not in html
    assert 'id="key-gone"' in html
    assert Tenant.objects.count() == 1
    assert ApiKey.objects.count() == 1

    tenant = Tenant.objects.get()
    listed = signed_in.get(reverse("portal:run-list"))
    assert listed.context["membership"].tenant == tenant
    assert secret not in signed_in.get(reverse("portal:keys")).content.decode()


def test_a_blank_name_is_a_form_error(signed_in: Client) -> None:
    form = create_form(signed_in)
    response = signed_in.post(CREATE_URL, {**form, "name": "  "})
    assert response.status_code == 200
    assert "name" in response.context["form"].errors
    assert not Tenant.objects.exists()


def test_the_created_page_offers_the_onboarding_next_steps_slot(
    signed_in: Client, panels: None, settings: Any
) -> None:
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [*settings.TEMPLATES[0]["DIRS"], TEMPLATES]}
    ]
    register_panel(Panel("onboarding.next_steps", "tests/panel.html"))
    html = signed_in.post(CREATE_URL, create_form(signed_in)).content.decode()
    assert '<p class="probe-panel">Lumen Studio' in html
    assert f'href="{reverse("portal:run-create")}"' in html


def test_creating_a_tenant_needs_sign_in(client: Client) -> None:
    response = client.get(CREATE_URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert client.post(CREATE_URL, {"name": "x", "nonce": "n"}).status_code == 302
    assert not Tenant.objects.exists()
    assert not Invitation.objects.exists()
