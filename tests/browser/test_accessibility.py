"""Every portal page passes axe-core's automated accessibility check with no serious or
critical violation, in the dark and the light theme (``prefers-color-scheme``), on a desktop
and a 390x844 phone viewport. The pages and their rows are the CSP sweep's
(tests/browser/csp_pages.py); each page is loaded once and checked in every look."""

from pprint import pformat
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.billing.conftest import stripe_fake, stripe_fake_server  # noqa: F401  (fixtures)
from tests.browser.conftest import DESKTOP, PASSWORD, PHONE, sign_in
from tests.browser.csp_pages import MEMBER, PAGES, STAFF, VISITOR, World
from tests.browser.test_content_security_policy import Sweep, video, world  # noqa: F401
from tests.conftest import totp_code

pytestmark = pytest.mark.django_db(transaction=True)

#: Each look a page is checked in: its color scheme and viewport.
LOOKS = [
    ("dark", DESKTOP),
    ("light", DESKTOP),
    ("light", PHONE),
    ("dark", PHONE),
]
BLOCKING = {"serious", "critical"}
#: Every id an ARIA reference names that no element on the page has (axe only asks for a
#: review when some of a list's ids are missing).
MISSING_REFERENCES = """() => [...document.querySelectorAll(
  "[aria-describedby], [aria-labelledby], [aria-controls], [aria-errormessage]")]
  .flatMap((element) => ["aria-describedby", "aria-labelledby", "aria-controls",
    "aria-errormessage"].flatMap((name) => (element.getAttribute(name) || "").split(/\\s+/)
    .filter((id) => id && !document.getElementById(id))
    .map((id) => `${element.id || element.tagName.toLowerCase()} ${name}=${id}`)))"""
AXE = Axe()


class AccessibilitySweep(Sweep):
    """The CSP sweep's visits, with axe run on each page in every look once it is ready."""

    def __init__(self, page: Any, base_url: str) -> None:
        super().__init__(page, base_url)
        self.violations: list[str] = []
        self.checked = 0
        #: Pages whose background stayed the same in both schemes (no light theme there).
        self.one_theme: list[str] = []

    def check(self, name: str, lands_on: str) -> None:
        super().check(name, lands_on)
        backgrounds = set()
        for scheme, viewport in LOOKS:
            self.page.emulate_media(color_scheme=scheme)
            self.page.set_viewport_size(viewport)
            backgrounds.add(self.page.evaluate("getComputedStyle(document.body).backgroundColor"))
            results = AXE.run(self.page).response
            self.checked += 1
            look = f"{scheme} {viewport['width']}x{viewport['height']}"
            for violation in results["violations"]:
                if violation["impact"] in BLOCKING:
                    targets = [node["target"] for node in violation["nodes"]]
                    self.violations.append(
                        f"{name} [{look}] {violation['id']} ({violation['impact']}): {targets}"
                    )
        self.page.set_viewport_size(DESKTOP)
        if len(backgrounds) < 2:
            self.one_theme.append(name)
        for reference in self.page.evaluate(MISSING_REFERENCES):
            self.violations.append(f"{name} aria reference to a missing id: {reference}")

    def assert_clean(self, pages: int) -> None:
        assert self.problems == {}, pformat(self.problems, width=100)
        assert self.violations == [], "\n".join(self.violations)
        assert self.one_theme == []
        assert self.checked == pages * len(LOOKS)


def _count(who: str) -> int:
    return sum(1 for entry in PAGES.values() if entry.who == who)


def test_every_visitors_page_has_no_serious_accessibility_violation(
    page: Any,
    live_server: Any,
    world: World,  # noqa: F811
) -> None:
    sweep = AccessibilitySweep(page, live_server.url)
    sweep.pages(VISITOR, world)
    sweep.assert_clean(_count(VISITOR))


def test_every_members_page_has_no_serious_accessibility_violation(
    page: Any,
    live_server: Any,
    world: World,  # noqa: F811
) -> None:
    sweep = AccessibilitySweep(page, live_server.url)
    sign_in(page, live_server.url, "ada")
    sweep.pages(MEMBER, world)
    sweep.visit("404", "/runs/no-such-run/")
    sweep.assert_clean(_count(MEMBER) + 1)


def test_every_staff_page_has_no_serious_accessibility_violation(
    page: Any,
    live_server: Any,
    world: World,  # noqa: F811
) -> None:
    sweep = AccessibilitySweep(page, live_server.url)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=login]", "staff@example.com")
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-submit")
    page.wait_for_url("**/accounts/2fa/authenticate/")
    sweep.check("mfa_authenticate", "/accounts/2fa/authenticate/")
    page.fill("input[name=code]", totp_code(world.staff_totp_secret))
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/2fa/authenticate/" not in url)
    sweep.pages(STAFF, world)
    sweep.assert_clean(_count(STAFF) + 1)


def test_the_skip_link_is_the_first_tab_stop_and_moves_focus_to_the_content(
    page: Any, live_server: Any
) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "skip-link"
    assert page.locator("#skip-link").is_visible()
    assert page.locator("#skip-link").inner_text() == "Skip to content"
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.activeElement.id === 'main'")
