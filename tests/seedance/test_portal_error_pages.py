"""The 403, 404 and 500 pages: the portal's look, what happened in words, and a way on
(home, runs, sign in or out); under /api/ the JSON error shape stays (test_api_fallbacks).
Django serves these only with DEBUG off, as the suite runs; each test says so again."""

from typing import Any
from uuid import uuid4

import pytest
from django.core.exceptions import PermissionDenied
from django.template import loader
from django.test import Client, RequestFactory
from django.urls import include, path, reverse

from seedance.api import fallbacks
from seedance.models import Membership, Tenant
from tests.error_shape import assert_error_shape


def _forbidden(request: Any) -> Any:
    raise PermissionDenied("Staff only.")


def _boom(request: Any) -> Any:
    raise RuntimeError("a bug of ours")


urlpatterns = [
    path("forbidden/", _forbidden),
    path("boom/", _boom),
    path("api/v1/forbidden", _forbidden),
    path("", include("config.urls")),  # the portal's own names, for its navigation
]
handler403 = fallbacks.permission_denied
handler500 = fallbacks.server_error


@pytest.fixture(autouse=True)
def _debug_off(settings: Any) -> None:
    settings.DEBUG = False


@pytest.fixture
def staff_without_membership(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user(
        "staffer", "staffer@example.com", "s3cret-pass!", is_staff=True
    )


def _sign_out_form(html: str) -> bool:
    return 'id="sign-out"' in html and f'action="{reverse("account_logout")}"' in html


@pytest.mark.urls(__name__)
def test_403_page_is_the_portals_and_offers_sign_out_to_a_staff_member_without_a_tenant(
    client: Client, staff_without_membership: Any
) -> None:
    client.force_login(staff_without_membership)
    response = client.get("/forbidden/")
    html = response.content.decode()
    assert response.status_code == 403
    assert 'id="error-403"' in html
    assert "portal/portal.css" in html
    assert _sign_out_form(html)
    assert reverse("portal:home") in html
    assert reverse("portal:run-list") in html


@pytest.mark.urls(__name__)
def test_403_signed_out_offers_sign_in(client: Client, db: None) -> None:
    html = client.get("/forbidden/").content.decode()
    assert 'id="error-sign-in"' in html
    assert 'id="sign-out"' not in html


def test_404_page_explains_and_offers_the_way_home(
    client: Client, tenant: Tenant, django_user_model: Any
) -> None:
    user = django_user_model.objects.create_user("ada", "ada@example.com", "s3cret-pass!")
    Membership.objects.create(user=user, tenant=tenant, role=Membership.Role.MEMBER)
    client.force_login(user)
    response = client.get("/no-such-page/")
    html = response.content.decode()
    assert response.status_code == 404
    assert 'id="error-404"' in html
    assert 'id="error-home"' in html
    assert 'id="error-runs"' in html
    assert _sign_out_form(html)
    assert tenant.name in html  # the portal's own navigation, with the tenant


def test_404_of_another_tenants_run_is_the_same_page(
    client: Client, tenant: Tenant, django_user_model: Any
) -> None:
    user = django_user_model.objects.create_user("ada", "ada@example.com", "s3cret-pass!")
    Membership.objects.create(user=user, tenant=tenant, role=Membership.Role.MEMBER)
    client.force_login(user)
    response = client.get(reverse("portal:run-detail", args=[uuid4()]))
    assert response.status_code == 404
    assert 'id="error-404"' in response.content.decode()


@pytest.mark.urls(__name__)
def test_500_page_is_the_portals_and_offers_a_way_on(db: None) -> None:
    response = Client(raise_request_exception=False).get("/boom/")
    html = response.content.decode()
    assert response.status_code == 500
    assert 'id="error-500"' in html
    assert 'id="error-home"' in html
    assert "portal/portal.css" in html
    assert "a bug of ours" not in html


def test_500_page_renders_without_a_request_or_the_database() -> None:
    """No db fixture: any query here fails the test (pytest-django blocks the database)."""
    html = loader.get_template("500.html").render()
    assert 'id="error-500"' in html
    response = fallbacks.server_error(RequestFactory().get("/runs/"))
    assert response.status_code == 500
    assert b'id="error-500"' in response.content


@pytest.mark.urls(__name__)
def test_api_errors_keep_the_json_shape(client: Client, db: None) -> None:
    assert_error_shape(client.get("/api/v1/forbidden"), 403, "permission_denied")
    assert_error_shape(Client().get("/api/v1/no-such-endpoint"), 404, "not_found")


def test_get_sign_out_asks_to_confirm_and_signs_out_only_on_post(
    client: Client, staff_without_membership: Any
) -> None:
    client.force_login(staff_without_membership)
    page = client.get(reverse("account_logout"))
    assert page.status_code == 200
    assert 'method="post"' in page.content.decode()
    assert client.get(reverse("portal:home")).status_code == 302  # still signed in: onboarding
    assert "_auth_user_id" in client.session
    client.post(reverse("account_logout"))
    assert "_auth_user_id" not in client.session
