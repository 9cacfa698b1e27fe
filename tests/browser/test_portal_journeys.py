"""A person makes a video in the portal and watches it arrive, in a real browser."""

from typing import Any

import pytest
from django.urls import reverse

from seedance.accounts.identity import verified_email_set
from seedance.models import Membership, Run, Tenant
from seedance.sandbox import SandboxServer
from tests.browser.conftest import PASSWORD, screenshot, sign_in

pytestmark = pytest.mark.django_db(transaction=True)

#: The selects whose chosen option's text is wider than the room the select gives it
#: (its padding and the arrow's 20px aside).
SELECTS_CUT_OFF = """(selector) => [...document.querySelectorAll(selector)]
.filter((select) => {
  const style = getComputedStyle(select);
  const context = document.createElement("canvas").getContext("2d");
  context.font = style.font;
  const widest = Math.max(...[...select.options].map((o) => context.measureText(o.text).width));
  const padding = parseFloat(style.paddingLeft) + parseFloat(style.paddingRight);
  const room = select.clientWidth - padding - 20;
  return widest > room;
}).map((select) => select.id)"""


@pytest.fixture
def person(django_user_model: Any) -> Any:
    tenant = Tenant.objects.create(slug="lumen", name="Lumen Studio")
    user = django_user_model.objects.create_user("maya", "maya@example.com", PASSWORD)
    verified_email_set(user=user, email="maya@example.com")
    Membership.objects.create(user=user, tenant=tenant, role=Membership.Role.ADMIN)
    return user


def test_create_a_run_watch_it_finish_without_reloading_and_play_it(
    page: Any, live_server: Any, person: Any, sandbox: SandboxServer, worker: Any
) -> None:
    sandbox.faults.set_global(queued_seconds=2.0, running_seconds=2.0)
    sign_in(page, live_server.url, "maya")
    page.goto(f"{live_server.url}/runs/new/")
    page.fill("#run-prompt", "A paper boat drifting down a rainy street, golden hour")
    page.select_option("#run-aspect-ratio", "16:9")
    page.select_option("#run-duration", "4")
    page.select_option("#run-resolution", "480p")
    page.wait_for_selector("#price-estimate >> text=480p")
    screenshot(page, "create-page")
    page.click("#run-submit")
    page.wait_for_url("**/runs/*/")
    page.evaluate("window.__sameDocument = true")

    # Runflow calls back only at the end, so the page goes from queued to succeeded.
    assert page.locator("#run-status-badge").get_attribute("data-status") == "queued"
    page.wait_for_selector("#run-status-badge[data-status=succeeded]", timeout=30_000)
    assert page.evaluate("window.__sameDocument") is True, "the page reloaded"

    video = page.wait_for_selector("#run-video", timeout=30_000)
    page.wait_for_function("() => document.querySelector('#run-video').readyState >= 1")
    assert abs(page.evaluate("document.querySelector('#run-video').duration") - 4.0) < 0.2
    page.evaluate("v => { v.muted = true; return v.play(); }", video)
    page.wait_for_function("() => document.querySelector('#run-video').currentTime > 0.3")
    assert page.locator("#run-download").get_attribute("href")
    screenshot(page, "run-page-with-player")
    assert Run.objects.get().created_by == person

    page.goto(f"{live_server.url}/usage/")
    page.wait_for_selector("#usage-chart rect.bar")
    screenshot(page, "usage-chart")


def test_a_bad_input_shows_its_field_error_and_creates_nothing(
    page: Any, live_server: Any, person: Any
) -> None:
    sign_in(page, live_server.url, "maya")
    page.goto(f"{live_server.url}/runs/new/")
    page.fill("#run-prompt", "A fox in snow")
    page.fill("#run-seed", "-5")
    page.click("#run-submit")
    error = page.wait_for_selector("#id_seed_error")
    assert "between 0 and" in error.inner_text()
    assert not Run.objects.exists()
    screenshot(page, "create-page-field-error")


def test_the_runs_list_reads_well_on_a_phone(
    phone_page: Any, live_server: Any, person: Any
) -> None:
    from tests.factories import make_run

    tenant = Tenant.objects.get()
    for status in ("succeeded", "running", "failed"):
        make_run(tenant, created_by=person, status=status)
    sign_in(phone_page, live_server.url, "maya")
    phone_page.goto(f"{live_server.url}/runs/")
    phone_page.wait_for_selector("#runs-table")
    width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways on a phone ({width}px)"
    screenshot(phone_page, "runs-list-phone")
    phone_page.goto(f"{live_server.url}/runs/new/")
    phone_page.wait_for_selector("#run-create-form")
    width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the create page scrolls sideways on a phone ({width}px)"
    phone_page.wait_for_selector("#price-estimate .estimate-amount")
    price = phone_page.locator("#price-estimate").bounding_box()
    submit = phone_page.locator("#run-submit").bounding_box()
    assert price["y"] + price["height"] <= submit["y"], "the price sits below the button"
    for viewport in ({"width": 390, "height": 844}, {"width": 1280, "height": 860}):
        phone_page.set_viewport_size(viewport)
        assert phone_page.evaluate(SELECTS_CUT_OFF, "#run-create-form select") == [], viewport
    screenshot(phone_page, "create-page-phone")


def test_the_prompt_counter_counts_an_emoji_as_one_character_as_the_server_does(
    page: Any, live_server: Any, person: Any
) -> None:
    sign_in(page, live_server.url, "maya")
    page.goto(f"{live_server.url}/runs/new/")
    page.fill("#run-prompt", "\N{FOX FACE} in snow")
    page.wait_for_function(
        "() => document.querySelector('#prompt-counter').innerText === '9 / 2000'"
    )


def test_the_members_table_leaves_the_role_select_room_for_its_choices(
    phone_page: Any, live_server: Any, person: Any
) -> None:
    sign_in(phone_page, live_server.url, "maya")
    phone_page.goto(f"{live_server.url}{reverse('portal:members')}")
    phone_page.wait_for_selector("#members select")
    for viewport in ({"width": 390, "height": 844}, {"width": 1280, "height": 860}):
        phone_page.set_viewport_size(viewport)
        assert phone_page.evaluate(SELECTS_CUT_OFF, "#members select") == [], viewport
