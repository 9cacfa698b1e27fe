"""Where other apps add to the portal without seedance knowing them.

seedance's templates name no other app's URL: an app registers navigation links and page
panels here from its ``AppConfig.ready()``, and the templates ask for a menu or a slot
(``seedance.templatetags.portal_extensions``). An app left out of ``INSTALLED_APPS`` never
runs its ``ready()``, so its links and panels go with it.
"""

from dataclasses import dataclass
from typing import Literal

Menu = Literal["main", "manage", "account"]


@dataclass(frozen=True)
class NavLink:
    """A link in a menu; active when ``key`` is the page's section in that menu."""

    menu: Menu
    key: str
    label: str
    url_name: str
    admin_only: bool = False
    order: int = 50


@dataclass(frozen=True)
class Panel:
    """A template rendered, with the page's context, wherever a page offers ``slot``."""

    slot: str
    template_name: str
    admin_only: bool = False
    order: int = 50


_nav_links: dict[tuple[str, str], NavLink] = {}
_panels: dict[tuple[str, str], Panel] = {}


def register_nav_link(link: NavLink) -> None:
    """Add ``link`` (again: replaced, so a reloaded ``ready()`` does not repeat it)."""
    _nav_links[(link.menu, link.key)] = link


def register_panel(panel: Panel) -> None:
    _panels[(panel.slot, panel.template_name)] = panel


def nav_links(menu: Menu, *, is_admin: bool) -> list[NavLink]:
    return sorted(
        (
            link
            for link in _nav_links.values()
            if link.menu == menu and (is_admin or not link.admin_only)
        ),
        key=lambda link: (link.order, link.label),
    )


def panels(slot: str, *, is_admin: bool) -> list[Panel]:
    return sorted(
        (
            panel
            for panel in _panels.values()
            if panel.slot == slot and (is_admin or not panel.admin_only)
        ),
        key=lambda panel: (panel.order, panel.template_name),
    )
