"""Every portal page resolves the person's membership here, on every request.

``current_membership`` (seedance.tenancy) is the one place the tenant is chosen and the
membership checked; this module only hands its answer to views and templates.
"""

from typing import Any

from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpRequest

from seedance.models import Membership
from seedance.tenancy import current_membership


def portal_context(request: HttpRequest) -> dict[str, Any]:
    """``membership`` (checked now) and ``memberships`` (for the tenant switcher)."""
    membership = current_membership(request)
    memberships = list(
        Membership.objects.select_related("tenant")
        .filter(user=membership.user_id)
        .order_by("tenant__name")
    )
    return {"membership": membership, "memberships": memberships}


class PortalMixin(LoginRequiredMixin):
    """Sign-in required; ``self.membership`` is set before the handler runs and both
    ``membership`` and ``memberships`` are in every template context."""

    membership: Membership
    request: HttpRequest
    #: The main menu's entry this page belongs to (seedance.portal.extensions.NavLink.key).
    portal_section = ""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self._portal_context = portal_context(request)
        self.membership = self._portal_context["membership"]
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context: dict[str, Any] = super().get_context_data(**kwargs)  # type: ignore[misc]
        context.update(self._portal_context)
        context.setdefault("portal_section", self.portal_section)
        return context
