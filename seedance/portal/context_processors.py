"""``membership`` for pages that are not portal views (the account pages, onboarding), so
the layout's navigation works everywhere. Lazy: no query unless a template reads it, and a
portal view's own context takes precedence. None when the person works in no tenant yet."""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from seedance.portal.access import portal_context


def portal(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def membership() -> Any:
        try:
            return portal_context(request)["membership"]
        except PermissionDenied:
            return None

    return {"membership": SimpleLazyObject(membership)}
