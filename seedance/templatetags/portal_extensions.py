"""``{% portal_nav "menu" as links %}`` and ``{% portal_panels "slot" %}``: the portal's
extension point (seedance.portal.extensions) as templates see it."""

from typing import Any

from django import template
from django.template.context import Context
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe

from seedance.portal.extensions import Menu, nav_links, panels

register = template.Library()


@register.simple_tag(takes_context=True)
def portal_nav(context: Context, menu: Menu) -> list[dict[str, Any]]:
    """The menu's links for this person, each with its URL and whether it is the page's."""
    current = context.get("manage_section" if menu == "manage" else "portal_section")
    return [
        {
            "key": link.key,
            "label": link.label,
            "url": reverse(link.url_name),
            "active": link.key == current,
        }
        for link in nav_links(menu, is_admin=_is_admin(context))
    ]


@register.simple_tag(takes_context=True)
def portal_panels(context: Context, slot: str) -> SafeString:
    """Every panel registered for ``slot``, rendered with the page's own context."""
    assert context.template is not None, "only inside a template being rendered"
    engine = context.template.engine
    rendered = []
    for panel in panels(slot, is_admin=_is_admin(context)):
        with context.push():
            rendered.append(engine.get_template(panel.template_name).render(context))
    return mark_safe("".join(rendered))  # noqa: S308  (each panel is an autoescaped template)


def _is_admin(context: Context) -> bool:
    membership = context.get("membership")
    return bool(membership) and getattr(membership, "role", None) == "admin"
