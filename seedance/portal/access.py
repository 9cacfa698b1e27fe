"""Which tenant a signed-in person works in, checked on every portal request.

``current_membership`` is the one place the tenant is chosen: the session's tenant if the
person still belongs to it, else the one they used last, else their only one. Someone with
several tenants and no history chooses on a page; nothing is picked by name or id order.
A suspended tenant's pages all answer with one page saying so (403); the views a person
needs to leave it set ``allowed_while_suspended`` (or, like the tenant switcher, need no
tenant at all).
"""

from datetime import timedelta
from typing import Any

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django_htmx.http import HttpResponseClientRedirect

from seedance.conf import setting
from seedance.log_context import bind_tenant
from seedance.models import Membership

SESSION_TENANT_KEY = "seedance_tenant_id"
#: Don't rewrite last_used_at on every (polled) request: once a minute is precise enough.
LAST_USED_RESOLUTION_SECONDS = 60


class NoMembership(PermissionDenied):
    """The person belongs to no tenant: they create one or answer an invitation."""


class TenantNotChosen(PermissionDenied):
    """The person belongs to several tenants and nothing says which: they choose."""


def current_membership(request: HttpRequest) -> Membership:
    """The signed-in person's membership in the tenant they are working in, now."""
    user = request.user
    if not user.is_authenticated:
        raise PermissionDenied("Sign in first.")
    memberships = Membership.objects.select_related("tenant").filter(user=user)
    chosen = request.session.get(SESSION_TENANT_KEY)
    membership = (chosen and memberships.filter(tenant_id=chosen).first()) or _default(memberships)
    if chosen != membership.tenant_id:  # no session write on every (polled) request
        request.session[SESSION_TENANT_KEY] = membership.tenant_id
    _touch(membership)
    bind_tenant(membership.tenant)
    return membership


def switch_tenant(request: HttpRequest, tenant_id: int) -> Membership:
    """Make ``tenant_id`` the session's tenant, and the person's last used, if they belong
    to it (Membership.DoesNotExist otherwise)."""
    if not request.user.is_authenticated:
        raise PermissionDenied("Sign in first.")
    membership = Membership.objects.select_related("tenant").get(
        user=request.user, tenant_id=tenant_id
    )
    request.session[SESSION_TENANT_KEY] = membership.tenant_id
    membership.last_used_at = timezone.now()
    membership.save(update_fields=["last_used_at"])
    return membership


def _default(memberships: QuerySet[Membership]) -> Membership:
    last_used = (
        memberships.filter(last_used_at__isnull=False).order_by("-last_used_at", "-pk").first()
    )
    if last_used is not None:
        return last_used
    some = list(memberships[:2])
    if not some:
        raise NoMembership("You are not a member of any tenant.")
    if len(some) > 1:
        raise TenantNotChosen("Choose the tenant to work in.")
    return some[0]


def _touch(membership: Membership) -> None:
    now = timezone.now()
    stale = now - timedelta(seconds=LAST_USED_RESOLUTION_SECONDS)
    if membership.last_used_at is None or membership.last_used_at < stale:
        Membership.objects.filter(pk=membership.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=stale)
        ).update(last_used_at=now)
        membership.last_used_at = now


def portal_context(request: HttpRequest) -> dict[str, Any]:
    """``membership``, checked now, for views and templates."""
    return {"membership": current_membership(request)}


def not_working_in_a_tenant(request: HttpRequest, refusal: PermissionDenied) -> HttpResponse:
    """Where a portal page sends someone it cannot serve: to choose a tenant (then back),
    or, with none at all, to the start (invitations or creating one)."""
    if isinstance(refusal, TenantNotChosen):
        target = f"{reverse('portal:switch-tenant')}?{urlencode({'next': request.get_full_path()})}"
    else:
        target = reverse("portal:home")
    if getattr(request, "htmx", False):
        return HttpResponseClientRedirect(target)  # a polled fragment must not swap in a page
    return redirect(target)


class PortalMixin(LoginRequiredMixin):
    """Sign-in and a tenant required; ``self.membership`` is set before the handler runs
    and ``membership`` is in every template context."""

    membership: Membership
    request: HttpRequest
    #: The main menu's entry this page belongs to (seedance.portal.extensions.NavLink.key).
    portal_section = ""
    allowed_while_suspended = False

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        try:
            self._portal_context = portal_context(request)
        except (NoMembership, TenantNotChosen) as refusal:
            return not_working_in_a_tenant(request, refusal)
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
