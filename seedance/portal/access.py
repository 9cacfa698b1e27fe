"""Every portal page resolves the person's membership here, on every request.

``current_membership`` (seedance.tenancy) is the one place the tenant is chosen and the
membership checked; this module only hands its answer to views and templates. A suspended
tenant's pages all answer with one page saying so (403); the few views a person needs to
leave it (switching tenant) set ``allowed_while_suspended``.
"""

from typing import Any

from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpRequest
from django.template.response import TemplateResponse

from seedance.conf import setting
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
    allowed_while_suspended = False

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self._portal_context = portal_context(request)
        self.membership = self._portal_context["membership"]
        if self.membership.tenant.is_suspended and not self.allowed_while_suspended:
            return suspended_response(request, self._portal_context)
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context: dict[str, Any] = super().get_context_data(**kwargs)  # type: ignore[misc]
        context.update(self._portal_context)
        context.setdefault("portal_section", self.portal_section)
        return context


SUSPENDED_TEMPLATE = "seedance/portal/suspended.html"


def suspended_response(request: HttpRequest, context: dict[str, Any]) -> TemplateResponse:
    """What every page of a suspended tenant shows: that it is, the note staff left for its
    members (staff's own reason stays in the audit log), and whom to ask."""
    return TemplateResponse(
        request,
        SUSPENDED_TEMPLATE,
        {**context, "support_email": setting("SUPPORT_EMAIL")},
        status=403,
    )
