"""Tenant admins manage API keys; platform staff review held videos in the Django admin."""

from typing import Any

import httpx
import pytest
from django.core.files.storage import default_storage

from seedance.accounts.identity import verified_email_set
from seedance.models import Membership, ModerationDecision, OutputFile, Run, Tenant
from seedance.outputs import outputs_copy
from seedance.run_input import RunInput
from seedance.sandbox import SandboxServer
from seedance.services.runs import run_create
from seedance.services.submission import run_submit
from tests.browser.conftest import PASSWORD, screenshot, sign_in
from tests.conftest import totp_code, totp_enrol
from tests.fixtures.services import wait_for_run

pytestmark = pytest.mark.django_db(transaction=True)


def test_tenant_admin_creates_a_key_uses_it_and_revokes_it(
    page: Any, live_server: Any, django_user_model: Any
) -> None:
    tenant = Tenant.objects.create(slug="orbit", name="Orbit Apps")
    admin = django_user_model.objects.create_user("ada", "ada@example.com", PASSWORD)
    verified_email_set(user=admin, email="ada@example.com")
    Membership.objects.create(user=admin, tenant=tenant, role=Membership.Role.ADMIN)
    sign_in(page, live_server.url, "ada")
    page.goto(f"{live_server.url}/manage/keys/")
    page.fill("#key-name", "Mobile app")
    page.click("#create-key-form [type=submit]")
    secret = page.wait_for_selector("#new-api-key").inner_text().strip()
    screenshot(page, "api-key-created")
    api = f"{live_server.url}/api/v1/runs"
    assert httpx.get(api, headers={"Authorization": f"Bearer {secret}"}).status_code == 200

    page.goto(f"{live_server.url}/manage/keys/")
    assert secret not in page.content(), "the key was shown a second time"
    prefix = secret.rsplit("_", 1)[0]
    page.on("dialog", lambda dialog: dialog.accept())
    page.click(f"tr[data-key-prefix='{prefix}'] button.revoke-key")
    page.wait_for_load_state("networkidle")
    assert httpx.get(api, headers={"Authorization": f"Bearer {secret}"}).status_code == 401


def held_run(tenant: Tenant, sandbox: SandboxServer, prompt: str) -> Run:
    """A run the sandbox flags as NSFW, finished through its signed callback, copied."""
    run, _ = run_create(
        tenant=tenant,
        run_input=RunInput(prompt=prompt, duration="4", resolution="480p", aspect_ratio="16:9"),
    )
    sandbox.faults.set_for(str(run.pk), nsfw=True)
    run_submit(run.pk)
    run = wait_for_run(run)
    outputs_copy(run.pk)
    run.refresh_from_db()
    assert run.moderation == Run.Moderation.PENDING
    return run


def test_staff_approve_and_reject_held_runs_in_the_admin(
    page: Any, live_server: Any, django_user_model: Any, sandbox: SandboxServer
) -> None:
    tenant = Tenant.objects.create(slug="nova", name="Nova")
    kept = held_run(tenant, sandbox, "A beach at dawn, waves and gulls")
    removed = held_run(tenant, sandbox, "A crowded night market, neon signs")
    removed_file = OutputFile.objects.get(run=removed).file.name
    staff = django_user_model.objects.create_superuser("staff", "staff@example.com", PASSWORD)
    verified_email_set(user=staff, email="staff@example.com")
    secret = totp_enrol(staff)

    # The admin signs in through allauth: password, then the authenticator app's code.
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("input[name=login]", "staff@example.com")
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-submit")
    page.wait_for_url("**/accounts/2fa/authenticate/")
    page.fill("input[name=code]", totp_code(secret))
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: url.endswith("/admin/"))
    page.goto(f"{live_server.url}/admin/seedance/run/?moderation=pending")
    page.wait_for_function(
        "() => [...document.querySelectorAll('video.moderation-player')]"
        ".every(v => v.readyState >= 1)"
    )
    screenshot(page, "moderation-queue")

    for run, action, reason in (
        (kept, "approve_selected", "Beach scene, nothing explicit."),
        (removed, "reject_selected", "Violates the content policy."),
    ):
        page.goto(f"{live_server.url}/admin/seedance/run/?moderation=pending")
        page.check(f"input[name=_selected_action][value='{run.pk}']")
        page.select_option("select[name=action]", action)
        page.click("button[name=index]")
        page.fill("textarea[name=reason]", reason)
        page.click("#moderation-confirm")
        page.wait_for_selector(".messagelist .success")

    kept.refresh_from_db()
    removed.refresh_from_db()
    assert (kept.moderation, removed.moderation) == ("approved", "rejected")
    decisions = {d.run_id: d for d in ModerationDecision.objects.select_related("decided_by")}
    assert decisions[removed.pk].reason == "Violates the content policy."
    assert decisions[kept.pk].decided_by.username == "staff"
    assert not default_storage.exists(removed_file)
