"""The strict Content Security Policy breaks nothing: the portal, Swagger UI and the admin
load under it with no violation (Chromium reports each as an event and a console error)."""

from typing import Any

import pytest

from seedance.accounts.identity import verified_email_set
from seedance.models import Membership, Tenant
from tests.browser.conftest import PASSWORD, sign_in
from tests.conftest import totp_code, totp_enrol
from tests.factories import make_run

pytestmark = pytest.mark.django_db(transaction=True)

RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(event.violatedDirective + " " + event.blockedURI);
});
"""


def watched(page: Any) -> list[str]:
    """Every CSP violation the page reports, from its console and its DOM events."""
    seen: list[str] = []
    page.add_init_script(RECORD_VIOLATIONS)
    page.on(
        "console",
        lambda message: (
            seen.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return seen


def visit(page: Any, url: str, seen: list[str], ready: str) -> None:
    response = page.goto(url)
    assert "default-src 'self'" in response.headers["content-security-policy"]
    page.wait_for_selector(ready)
    page.wait_for_load_state("load")
    seen.extend(page.evaluate("window.__cspViolations"))


def test_portal_pages_load_under_the_policy_with_no_violation(
    page: Any, live_server: Any, django_user_model: Any
) -> None:
    seen = watched(page)
    tenant = Tenant.objects.create(slug="orbit", name="Orbit Apps")
    user = django_user_model.objects.create_user("ada", "ada@example.com", PASSWORD)
    verified_email_set(user=user, email="ada@example.com")
    Membership.objects.create(user=user, tenant=tenant, role=Membership.Role.ADMIN)
    run = make_run(tenant, created_by=user, status="running")
    sign_in(page, live_server.url, "ada")
    visit(page, f"{live_server.url}/runs/{run.pk}/", seen, "#run-status progress")
    visit(page, f"{live_server.url}/runs/new/", seen, "#prompt-counter")
    assert page.inner_text("#prompt-counter").endswith("/ 2000"), "portal.js did not run"
    visit(page, f"{live_server.url}/manage/keys/", seen, "#create-key-form")
    visit(page, f"{live_server.url}/usage/", seen, "svg.chart")
    assert seen == []


def test_swagger_ui_loads_under_the_policy_with_no_violation(page: Any, live_server: Any) -> None:
    seen = watched(page)
    visit(page, f"{live_server.url}/api/docs/", seen, ".swagger-ui .opblock")
    assert seen == []


def test_the_admin_loads_under_the_policy_with_no_violation(
    page: Any, live_server: Any, django_user_model: Any
) -> None:
    seen = watched(page)
    staff = django_user_model.objects.create_superuser("staff", "staff@example.com", PASSWORD)
    verified_email_set(user=staff, email="staff@example.com")
    secret = totp_enrol(staff)
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("input[name=login]", "staff@example.com")
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-submit")
    page.wait_for_url("**/accounts/2fa/authenticate/")
    page.fill("input[name=code]", totp_code(secret))
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: url.endswith("/admin/"))
    visit(page, f"{live_server.url}/admin/", seen, "#content")
    visit(page, f"{live_server.url}/admin/seedance/run/", seen, "#changelist")
    visit(page, f"{live_server.url}/admin/seedance/tenant/add/", seen, "form")
    assert seen == []
