"""The portal's extension point: other apps' links and panels, shown to whom they are for."""

from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.template import Context, Engine

from seedance.portal import extensions
from seedance.portal.extensions import NavLink, Panel, register_nav_link, register_panel

TEMPLATES = Path(__file__).parent / "templates"


@pytest.fixture
def registry() -> Iterator[None]:
    saved = dict(extensions._nav_links), dict(extensions._panels)
    yield
    extensions._nav_links.clear()
    extensions._nav_links.update(saved[0])
    extensions._panels.clear()
    extensions._panels.update(saved[1])


def render(source: str, role: str, **context: object) -> str:
    engine = Engine(
        dirs=[str(TEMPLATES)],
        libraries={"portal_extensions": "seedance.templatetags.portal_extensions"},
    )
    membership = SimpleNamespace(role=role, tenant=SimpleNamespace(name="Acme"))
    return engine.from_string("{% load portal_extensions %}" + source).render(
        Context({"membership": membership, **context})
    )


MENU = (
    '{% portal_nav "main" as links %}'
    "{% for l in links %}[{{ l.label }}{% if l.active %}*{% endif %}]{% endfor %}"
)


@pytest.mark.usefixtures("registry")
def test_a_registered_link_appears_in_its_menu_in_order_and_marks_its_section() -> None:
    register_nav_link(NavLink("main", "probe", "Probe", "portal:run-list", order=25))
    html = render(MENU, "member", portal_section="probe")
    assert "[Runs][Probe*]" in html
    assert html.index("[Create]") < html.index("[Probe*]")


@pytest.mark.usefixtures("registry")
def test_admin_only_links_and_panels_are_hidden_from_members() -> None:
    register_nav_link(NavLink("main", "probe", "Probe", "portal:run-list", admin_only=True))
    register_panel(Panel("probe.slot", "tests/panel.html", admin_only=True))
    member = render(MENU + '{% portal_panels "probe.slot" %}', "member", run_label="x")
    admin = render(MENU + '{% portal_panels "probe.slot" %}', "admin", run_label="x")
    assert "Probe" not in member
    assert "probe-panel" not in member
    assert "[Probe]" in admin
    assert "probe-panel" in admin


@pytest.mark.usefixtures("registry")
def test_a_panel_renders_with_the_pages_context_and_escapes_it() -> None:
    register_panel(Panel("probe.slot", "tests/panel.html"))
    html = render('{% portal_panels "probe.slot" %}', "member", run_label="<b>x</b>")
    assert "Acme · &lt;b&gt;x&lt;/b&gt;" in html


@pytest.mark.usefixtures("registry")
def test_registering_twice_shows_a_link_once() -> None:
    for _ in range(2):
        register_nav_link(NavLink("main", "probe", "Probe", "portal:run-list"))
    assert render(MENU, "member").count("[Probe]") == 1
