"""The strict Content Security Policy breaks nothing: every page a person can reach (the
portal, allauth's account and 2FA pages, invitations, Swagger UI, every admin page of every
registered model and our admin actions' confirmations) loads under it with no violation
(Chromium reports each as an event and a console error)."""

from collections.abc import Iterator
from pathlib import Path
from pprint import pformat
from typing import Any

import pytest
from django.contrib import admin
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from billing.stripe_fake import StripeFake
from seedance.sandbox.media import Renderer
from tests.billing.conftest import stripe_fake, stripe_fake_server  # noqa: F401  (fixtures)
from tests.browser.conftest import PASSWORD, sign_in
from tests.browser.csp_pages import (
    MEMBER,
    NOT_PAGES,
    PAGES,
    SEEN_ON_THE_WAY,
    STAFF,
    VISITOR,
    World,
    admin_paths,
    build_world,
    first_row,
    our_admin_actions,
    url_names_to_sweep,
)
from tests.conftest import totp_code

pytestmark = pytest.mark.django_db(transaction=True)

RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(event.violatedDirective + " " + event.blockedURI);
});
"""

#: What a page must show once its own script has run (the video's metadata proves
#: media-src lets it load from our origin).
READY = {
    "portal:run-detail": "() => document.querySelector('#run-video')?.readyState >= 1",
    "portal:run-create": "() => document.querySelector('#prompt-counter')?.innerText"
    ".endsWith('/ 2000')",
    "billing_portal:usage": "() => document.querySelector('svg.chart') !== null",
}


class Sweep:
    """A browser page that records every CSP violation and where each visit ended."""

    def __init__(self, page: Any, base_url: str) -> None:
        self.page = page
        self.base_url = base_url
        self.console: list[str] = []
        self.problems: dict[str, list[str]] = {}
        page.add_init_script(RECORD_VIOLATIONS)
        page.on(
            "console",
            lambda message: (
                self.console.append(message.text)
                if "Content Security Policy" in message.text
                else None
            ),
        )

    def pages(self, who: str, world: World) -> None:
        """Visit every page of ``PAGES`` that ``who`` sees, in its order."""
        for name, entry in PAGES.items():
            if entry.who == who:
                entry.before(self.page, self.base_url, world)
                self.visit(name, entry.path(world), entry.lands_on)

    def visit(self, name: str, path: str, lands_on: str = "") -> None:
        response = self.page.goto(f"{self.base_url}{path}")
        assert "default-src 'self'" in response.headers["content-security-policy"]
        self.settle()
        self.check(name, lands_on or path)

    def settle(self) -> None:
        """Loaded, and no htmx request (a fragment the page pulls in) still in flight."""
        self.page.wait_for_load_state("load")
        self.page.wait_for_function("() => document.querySelector('.htmx-request') === null")

    def check(self, name: str, lands_on: str) -> None:
        problems = [*self.console, *self.page.evaluate("window.__cspViolations")]
        self.console.clear()
        if lands_on not in self.page.url:
            problems.append(f"ended on {self.page.url}, not {lands_on}")
        elif name in READY:
            try:
                self.page.wait_for_function(READY[name], timeout=10_000)
            except PlaywrightTimeout:
                problems.append(f"never ready: {READY[name]}")
        if problems:
            self.problems[name] = problems


@pytest.fixture(scope="session")
def video(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A real one-second MP4, as the sandbox renders them."""
    renderer = Renderer(tmp_path_factory.mktemp("csp-video"))
    yield renderer.render(320, 180, 1, False).result(timeout=120)
    renderer.close()


@pytest.fixture
def world(video: Path, stripe_fake: StripeFake) -> World:  # noqa: F811
    return build_world(video)


def test_every_page_of_the_urlconf_is_swept_or_says_why_it_is_not_a_page() -> None:
    swept = {name.split("#")[0] for name in PAGES} | set(SEEN_ON_THE_WAY)
    assert not swept & set(NOT_PAGES)
    assert url_names_to_sweep() == swept | set(NOT_PAGES)


def test_every_visitors_page_loads_under_the_policy(
    page: Any, live_server: Any, world: World
) -> None:
    sweep = Sweep(page, live_server.url)
    sweep.pages(VISITOR, world)
    assert sweep.problems == {}, pformat(sweep.problems, width=100)


def test_every_members_page_loads_under_the_policy(
    page: Any, live_server: Any, world: World
) -> None:
    sweep = Sweep(page, live_server.url)
    sign_in(page, live_server.url, "ada")
    sweep.pages(MEMBER, world)
    assert sweep.problems == {}, pformat(sweep.problems, width=100)


def test_every_staff_and_admin_page_loads_under_the_policy(
    page: Any, live_server: Any, world: World
) -> None:
    sweep = Sweep(page, live_server.url)
    sweep.visit("account_login", "/accounts/login/")
    page.fill("input[name=login]", "staff@example.com")
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-submit")
    page.wait_for_url("**/accounts/2fa/authenticate/")
    sweep.check("mfa_authenticate", "/accounts/2fa/authenticate/")
    page.fill("input[name=code]", totp_code(world.staff_totp_secret))
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/2fa/authenticate/" not in url)
    sweep.pages(STAFF, world)
    for name, path in admin_paths(world).items():
        sweep.visit(name, path)
    for model, actions in our_admin_actions().items():
        assert first_row(model) is not None, f"no {model.__name__} to run its actions on"
        changelist = admin_paths(world)[
            f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist"
        ]
        for action in actions:
            sweep.visit(f"{changelist} (before {action})", changelist)
            page.locator("input[name=_selected_action]").first.check()
            page.select_option("select[name=action]", action)
            page.click("button[name=index]")
            sweep.settle()
            sweep.check(f"{model.__name__} action {action}", "/admin/")
    assert sweep.problems == {}, pformat(sweep.problems, width=100)
    assert len(admin.site._registry) > 10


def test_swagger_ui_loads_under_the_policy_with_no_violation(page: Any, live_server: Any) -> None:
    sweep = Sweep(page, live_server.url)
    sweep.visit("swagger-ui", "/api/docs/")
    page.wait_for_selector(".swagger-ui .opblock")
    sweep.check("swagger-ui", "/api/docs/")
    assert sweep.problems == {}, pformat(sweep.problems, width=100)
