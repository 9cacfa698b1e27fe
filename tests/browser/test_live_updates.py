"""The portal follows a run while it is open, in a real browser and with no reload: the
bar advances from queued through running to the video, a failure shows Runflow's reason,
the cost card follows billing, an approved video appears, and the runs list shows new runs.

The stack is the real one: the sandbox (at least 5 s running, so a loaded 2-core machine
is no race), a worker, and a dispatcher sweeping Runflow's statuses every second.
"""

import time
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from seedance.accounts.identity import verified_email_set
from seedance.models import Membership, Run, Tenant
from seedance.moderation import run_approve
from seedance.run_input import RunInput
from seedance.sandbox import SandboxServer
from seedance.services.runs import run_create
from seedance.states import RunStatus
from tests.browser.conftest import PASSWORD, screenshot, sign_in
from tests.factories import make_run

pytestmark = pytest.mark.django_db(transaction=True)

QUEUED_SECONDS = 3.0
RUNNING_SECONDS = 6.0
REASON = "The prompt was refused by the content filter."


@pytest.fixture
def person(django_user_model: Any) -> Any:
    tenant = Tenant.objects.create(slug="lumen", name="Lumen Studio")
    user = django_user_model.objects.create_user("maya", "maya@example.com", PASSWORD)
    verified_email_set(user=user, email="maya@example.com")
    Membership.objects.create(user=user, tenant=tenant, role=Membership.Role.ADMIN)
    # Runs like the ones below took a minute: the bar has an ETA to follow, far from its cap.
    done = make_run(
        tenant, status=RunStatus.SUCCEEDED, delivery="delivered", duration="4", resolution="480p"
    )
    now = timezone.now()
    Run.objects.filter(pk=done.pk).update(
        created_at=now - timedelta(hours=1),
        completed_at=now - timedelta(hours=1) + timedelta(seconds=60),
    )
    return user


@pytest.fixture
def stack(
    monkeypatch: pytest.MonkeyPatch, sandbox: SandboxServer, request: pytest.FixtureRequest
) -> SandboxServer:
    """Worker and dispatcher started with a one-second status sweep (the demo's), and a
    held video waiting for review before it is billed."""
    monkeypatch.setenv("SEEDANCE_STATUS_SWEEP_SECONDS", "1")
    monkeypatch.setenv("SEEDANCE_BILL_REJECTED", "false")
    request.getfixturevalue("dispatcher")
    sandbox.faults.set_global(queued_seconds=QUEUED_SECONDS, running_seconds=RUNNING_SECONDS)
    return sandbox


def submit(page: Any, base_url: str, prompt: str) -> None:
    page.goto(f"{base_url}/runs/new/")
    page.fill("#run-prompt", prompt)
    page.select_option("#run-duration", "4")
    page.select_option("#run-resolution", "480p")
    page.click("#run-submit")
    page.wait_for_url("**/runs/*/")
    page.evaluate("window.__sameDocument = true")


def bar_value(page: Any) -> float:
    return float(page.evaluate("document.querySelector('#run-progress-bar').value"))


def cost_text(page: Any) -> str:
    return str(page.locator("#run-cost-amount").inner_text())


def test_a_run_goes_queued_running_succeeded_with_the_bar_advancing_and_the_cost_following(
    page: Any, live_server: Any, person: Any, stack: SandboxServer
) -> None:
    sign_in(page, live_server.url, "maya")
    submit(page, live_server.url, "A paper boat drifting down a rainy street")

    assert page.locator("#run-status-badge").get_attribute("data-status") == "queued"
    assert bar_value(page) <= 10
    page.wait_for_selector("#run-cost-amount >> text=billed only if it succeeds")
    assert "up to" in cost_text(page)

    page.wait_for_selector("#run-status-badge[data-status=running]", timeout=30_000)
    assert "Generating since" in page.locator("#run-phase").inner_text()
    first = bar_value(page)
    assert first >= 10
    time.sleep(2.5)
    assert bar_value(page) > first, "the bar stood still while the run was running"
    screenshot(page, "run-page-generating")

    page.wait_for_selector("#run-status-badge[data-status=succeeded]", timeout=30_000)
    page.wait_for_selector("#run-video", timeout=30_000)
    page.wait_for_function(
        "() => !document.querySelector('#run-cost-amount').innerText.includes('up to')"
    )
    assert "$" in cost_text(page)
    assert "billed only if it succeeds" not in cost_text(page)
    assert page.evaluate("window.__sameDocument") is True, "the page reloaded"
    screenshot(page, "run-page-succeeded-cost")


def test_a_failing_run_shows_runflows_reason_without_a_reload(
    page: Any, live_server: Any, person: Any, stack: SandboxServer
) -> None:
    stack.faults.set_global(
        queued_seconds=1.0,
        running_seconds=5.0,
        fail=True,
        failure_code="CONTENT_POLICY",
        failure_message=REASON,
    )
    sign_in(page, live_server.url, "maya")
    submit(page, live_server.url, "A storm over a harbour")
    page.wait_for_selector(f"#run-failed >> text={REASON}", timeout=40_000)
    assert "CONTENT_POLICY" in page.locator("#run-failed").inner_text()
    page.wait_for_selector("#run-cost-amount >> text=Not billed")
    assert page.evaluate("window.__sameDocument") is True, "the page reloaded"
    screenshot(page, "run-page-failed-reason")


def test_an_approved_held_video_appears_and_is_billed_without_a_reload(
    page: Any, live_server: Any, person: Any, stack: SandboxServer
) -> None:
    stack.faults.set_global(queued_seconds=1.0, running_seconds=5.0, nsfw=True)
    sign_in(page, live_server.url, "maya")
    submit(page, live_server.url, "A lantern festival at night")
    page.wait_for_selector("#run-status-badge[data-status=held]", timeout=40_000)
    page.wait_for_selector("#run-cost-amount >> text=billed only if approved")
    assert page.locator("#run-video").count() == 0

    run = Run.objects.get(prompt="A lantern festival at night")
    assert run_approve(run_id=run.pk, decided_by=person)

    page.wait_for_selector("#run-video", timeout=30_000)
    page.wait_for_function(
        "() => !document.querySelector('#run-cost-amount').innerText.includes('approved')"
    )
    assert "$" in cost_text(page)
    assert page.evaluate("window.__sameDocument") is True, "the page reloaded"
    screenshot(page, "run-page-approved")


def test_the_runs_list_shows_a_new_run_and_its_progress_while_open(
    page: Any, live_server: Any, person: Any, stack: SandboxServer
) -> None:
    sign_in(page, live_server.url, "maya")
    page.goto(f"{live_server.url}/runs/")
    page.evaluate("window.__sameDocument = true")
    tenant = Tenant.objects.get()
    run, _ = run_create(
        tenant=tenant,
        run_input=RunInput(prompt="A heron at dawn", duration="4", resolution="480p"),
        created_by=person,
    )
    row = f"#run-rows tr[data-run-id='{run.pk}']"
    page.wait_for_selector(row, timeout=15_000)
    page.wait_for_selector(f"{row}[data-status=running] progress", timeout=30_000)
    page.wait_for_selector(f"{row}[data-status=succeeded]", timeout=30_000)
    assert page.locator(f"{row} progress").count() == 0
    assert page.evaluate("window.__sameDocument") is True, "the page reloaded"
    screenshot(page, "runs-list-live")
