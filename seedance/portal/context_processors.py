"""``membership`` and ``memberships`` for pages that are not portal views (the auth pages),
so the layout's navigation works everywhere. Lazy: no query unless a template reads them,
and a portal view's own context takes precedence."""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from seedance.portal.access import portal_context


def portal(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    resolved: dict[str, Any] = {}

    def value(key: str) -> Any:
        if not resolved:
            try:
                resolved.update(portal_context(request))
            except PermissionDenied:
                resolved.update(membership=None, memberships=[])
        return resolved[key]

    return {
        "membership": SimpleLazyObject(lambda: value("membership")),
        "memberships": SimpleLazyObject(lambda: value("memberships")),
    }
