"""A suspended tenant's portal says so on every page, shows staff's public note (never
their reason), and still lets a person sign out, use their account and switch tenant."""

import uuid
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from seedance.audit import Actor
from seedance.models import Membership, Run, Tenant
from seedance.services.keys import api_key_issue
from seedance.services.suspension import tenant_resume, tenant_suspend
from seedance.states import RunStatus
from tests.factories import SYSTEM, make_run

pytestmark = pytest.mark.django_db

PORTAL_NAMESPACES = ("portal", "billing_portal")
REASON = "Card testing from three countries; ticket 4411"
NOTICE = "Your account is under review. We will email your admins within a day."
#: Pages about the person, not a tenant: the way out of a suspended one (tested below).
NEED_NO_TENANT = {
    "portal:home",
    "portal:switch-tenant",
    "portal:tenant-create",
    "portal:invitation",
    "portal:invitation-accept",
    "portal:invitation-decline",
}


def portal_patterns(patterns: list[Any], namespace: str = "") -> list[tuple[str, URLPattern]]:
    """Every named URL of the portal namespaces, billing's included when it is installed."""
    found: list[tuple[str, URLPattern]] = []
    for entry in patterns:
        if isinstance(entry, URLResolver):
            found += portal_patterns(entry.url_patterns, entry.namespace or namespace)
        elif isinstance(entry, URLPattern) and entry.name and namespace in PORTAL_NAMESPACES:
            found.append((f"{namespace}:{entry.name}", entry))
    return found


@pytest.fixture
def ada(django_user_model: Any, tenant: Tenant) -> User:
    user = django_user_model.objects.create_user(username="ada", email="ada@example.com")
    Membership.objects.create(user=user, tenant=tenant, role=Membership.Role.ADMIN)
    return user


@pytest.fixture
def suspended(tenant: Tenant) -> Tenant:
    staff = User.objects.create_user("stella", is_staff=True)
    tenant_suspend(tenant=tenant, actor=Actor.staff(staff), reason=REASON, notice=NOTICE)
    return tenant


@pytest.fixture
def signed_in(client: Any, ada: User) -> Any:
    client.force_login(ada)
    return client


def test_every_portal_page_of_a_suspended_tenant_says_why(
    signed_in: Any, ada: User, tenant: Tenant
) -> None:
    run = make_run(tenant, created_by=ada, status=RunStatus.RUNNING, provider_run_id="rf_9")
    key = api_key_issue(tenant=tenant, name="k", actor=SYSTEM).api_key
    membership = Membership.objects.get(user=ada)
    values = {
        "run_id": run.pk,
        "key_id": key.pk,
        "membership_id": membership.pk,
        "limit_id": 1,
        "invitation_id": 1,
        "endpoint_id": uuid.uuid4(),
        "secret_id": uuid.uuid4(),
        "delivery_id": 1,
        "link_id": 1,
    }
    staff = User.objects.create_user("stella", is_staff=True)
    tenant_suspend(tenant=tenant, actor=Actor.staff(staff), reason=REASON, notice=NOTICE)

    pages = portal_patterns(get_resolver().url_patterns)
    assert {"portal:run-list", "portal:keys", "billing_portal:usage"} <= {n for n, _ in pages}
    for name, pattern in pages:
        if name in NEED_NO_TENANT:
            continue
        url = reverse(name, kwargs={arg: values[arg] for arg in pattern.pattern.regex.groupindex})
        for method in ("get", "post"):
            response = getattr(signed_in, method)(url, {"name": "x", "prompt": "y"})
            html = response.content.decode()
            assert response.status_code == 403, (method, name)
            assert "This tenant is suspended" in html, (method, name)
            assert NOTICE in html
            assert REASON not in html
    # Nothing was done behind the page: the key is live, no run was made or canceled.
    key.refresh_from_db()
    assert key.revoked_at is None
    assert list(Run.objects.values_list("status", flat=True)) == [RunStatus.RUNNING]


def test_without_a_note_the_page_names_the_support_address(
    signed_in: Any, tenant: Tenant, settings: Any
) -> None:
    settings.SEEDANCE = {**settings.SEEDANCE, "SUPPORT_EMAIL": "help@seedance.example"}
    staff = User.objects.create_user("stella", is_staff=True)
    tenant_suspend(tenant=tenant, actor=Actor.staff(staff), reason=REASON)
    html = signed_in.get(reverse("portal:run-list")).content.decode()
    assert "This tenant is suspended" in html
    assert 'href="mailto:help@seedance.example"' in html
    assert REASON not in html


def test_sign_out_and_account_pages_still_work(signed_in: Any, suspended: Tenant) -> None:
    for name in ("account_change_password", "account_email", "mfa_index", "accounts:delete"):
        assert signed_in.get(reverse(name), follow=True).status_code == 200, name
    assert signed_in.post(reverse("account_logout")).status_code == 302
    assert signed_in.get(reverse("portal:run-list")).status_code == 302  # to sign-in


def test_switching_to_another_tenant_works(
    signed_in: Any, ada: User, suspended: Tenant, other_tenant: Tenant
) -> None:
    Membership.objects.filter(user=ada).update(last_used_at=timezone.now())  # lands there
    Membership.objects.create(user=ada, tenant=other_tenant, role=Membership.Role.MEMBER)
    html = signed_in.get(reverse("portal:run-list")).content.decode()
    assert 'id="switch-tenant-link"' in html  # the way out is on the suspended page
    assert 'id="suspended-switch-tenant"' in html
    assert signed_in.get(reverse("portal:switch-tenant")).status_code == 200
    assert signed_in.get(reverse("portal:tenant-create")).status_code == 200

    switched = signed_in.post(reverse("portal:switch-tenant"), {"tenant": other_tenant.pk})
    assert switched.status_code == 302
    page = signed_in.get(reverse("portal:run-list"))
    assert page.status_code == 200
    assert "This tenant is suspended" not in page.content.decode()


def test_resume_restores_the_portal(signed_in: Any, suspended: Tenant) -> None:
    staff = User.objects.get(username="stella")
    tenant_resume(tenant=suspended, actor=Actor.staff(staff), reason="review done")
    page = signed_in.get(reverse("portal:run-list"))
    assert page.status_code == 200
    assert "This tenant is suspended" not in page.content.decode()
