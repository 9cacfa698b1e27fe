"""A person's way to a tenant: the start page, creating a tenant, choosing or switching
one, and answering invitations. These pages need a sign-in but not a tenant."""

import secrets
from typing import Any
from urllib.parse import urlparse

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.auth.models import User
from django.db.models import F
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import Resolver404, resolve, reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views import View
from django.views.generic import TemplateView

from seedance.exceptions import InvitationUnusable, TenantChangeRefused
from seedance.models import Invitation, Membership
from seedance.portal.access import NoMembership, TenantNotChosen, current_membership, switch_tenant
from seedance.portal.forms import TenantCreateForm
from seedance.portal.selectors import invitation_by_token, invitations_pending_for
from seedance.selectors import verified_emails_of
from seedance.services.members import invitation_accept, invitation_decline
from seedance.services.tenants import tenant_create

#: The last creation's form nonce and tenant: a reload resubmits, and must not make another.
SESSION_CREATED_KEY = "seedance_tenant_created"
#: Pages that are no place to go back to after choosing a tenant.
_NOT_BACK_TO = {"portal:switch-tenant", "portal:home", "portal:tenant-create"}


class HomeView(LoginRequiredMixin, View):
    """Where sign-in lands: the tenant the person works in, else a choice, else the start."""

    def get(self, request: HttpRequest) -> HttpResponse:
        try:
            current_membership(request)
        except TenantNotChosen:
            return redirect("portal:switch-tenant")
        except NoMembership:
            if invitations_pending_for(user=_person(request)):
                return redirect("portal:switch-tenant")
            return redirect("portal:tenant-create")
        return redirect("portal:run-list")


class TenantCreateView(LoginRequiredMixin, TemplateView):
    """Name a tenant; the answer shows its first API key, once."""

    template_name = "seedance/portal/onboarding/create.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = TenantCreateForm(initial={"nonce": secrets.token_urlsafe(16)})
        return self.render_to_response(self.get_context_data(form=form))

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = TenantCreateForm(request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form))
        nonce = form.cleaned_data["nonce"]
        done = request.session.get(SESSION_CREATED_KEY) or {}
        if done.get("nonce") == nonce:
            return self._created(request, done["tenant"], new_key=None)
        try:
            created = tenant_create(founder=_person(request), name=form.cleaned_data["name"])
        except TenantChangeRefused as refused:
            form.add_error("name", refused.message)
            return self.render_to_response(self.get_context_data(form=form))
        request.session[SESSION_CREATED_KEY] = {"nonce": nonce, "tenant": created.tenant.pk}
        return self._created(request, created.tenant.pk, new_key=created.key)

    def _created(self, request: HttpRequest, tenant_id: int, *, new_key: Any) -> HttpResponse:
        try:
            membership = switch_tenant(request, tenant_id)
        except Membership.DoesNotExist:
            return redirect("portal:home")
        response = self.response_class(
            request=request,
            template=["seedance/portal/onboarding/created.html"],
            context={"membership": membership, "new_key": new_key},
        )
        response["Cache-Control"] = "no-store"
        return response


class SwitchTenantView(LoginRequiredMixin, TemplateView):
    """GET: the person's tenants (Open each) and pending invitations; POST ``tenant``:
    work in that one from now on (404 if not a member), then back to ``next``."""

    template_name = "seedance/portal/tenants/switch.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        user = _person(self.request)
        try:
            working_in: Membership | None = current_membership(self.request)
        except (NoMembership, TenantNotChosen):
            working_in = None
        memberships = list(
            Membership.objects.select_related("tenant")
            .filter(user=user)
            .order_by(F("last_used_at").desc(nulls_last=True), "tenant__name")
        )
        context.update(
            membership=working_in,
            memberships=memberships,
            invitations=invitations_pending_for(user=user),
            next=_safe_next(self.request, self.request.GET.get("next", "")),
        )
        return context

    def post(self, request: HttpRequest) -> HttpResponse:
        try:
            switch_tenant(request, int(request.POST.get("tenant", "")))
        except (ValueError, OverflowError, Membership.DoesNotExist):
            raise Http404("No such tenant.") from None
        return HttpResponseRedirect(_safe_next(request, request.POST.get("next", "")))


class InvitationView(TemplateView):
    """The emailed link: what the invitation is, and how to answer it. Signed out, it asks
    the person to sign in or sign up first and comes back here after."""

    template_name = "seedance/portal/invitations/invitation.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        invitation = invitation_by_token(token=kwargs["token"])
        if invitation is None:
            raise Http404("No such invitation.")
        user = self.request.user
        here = urlencode({"next": self.request.get_full_path()})
        context.update(
            invitation=invitation,
            status=invitation.status,
            yours=user.is_authenticated and invitation.email in verified_emails_of(user=user),
            sign_in_url=f"{reverse('account_login')}?{here}",
            sign_up_url=f"{reverse('account_signup')}?{here}",
        )
        return context


class InvitationAcceptView(LoginRequiredMixin, View):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, invitation_id: int) -> HttpResponse:
        try:
            membership = invitation_accept(invitation_id=invitation_id, actor=_person(request))
        except Invitation.DoesNotExist:
            raise Http404("No such invitation.") from None
        except InvitationUnusable as refused:
            messages.error(request, refused.message)
            return redirect("portal:home")
        switch_tenant(request, membership.tenant_id)
        messages.success(request, f"Welcome to {membership.tenant.name}.")
        return redirect("portal:run-list")


class InvitationDeclineView(LoginRequiredMixin, View):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, invitation_id: int) -> HttpResponse:
        try:
            declined = invitation_decline(invitation_id=invitation_id, actor=_person(request))
        except Invitation.DoesNotExist:
            raise Http404("No such invitation.") from None
        except InvitationUnusable as refused:
            messages.error(request, refused.message)
            return redirect("portal:home")
        messages.success(request, f"You declined the invitation to {declined.tenant.name}.")
        return redirect("portal:home")


def _person(request: HttpRequest) -> User:
    """The signed-in account (these views are behind LoginRequiredMixin)."""
    assert isinstance(request.user, User)
    return request.user


def _safe_next(request: HttpRequest, target: str) -> str:
    """``target`` if it is a page of ours that any tenant has (not one object of the old
    tenant, which would now be a 404, nor the tenant pages themselves); else the runs list."""
    fallback = reverse("portal:run-list")
    if not target or not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return fallback
    try:
        match = resolve(urlparse(target).path)
    except Resolver404:
        return fallback
    return fallback if match.kwargs or match.view_name in _NOT_BACK_TO else target
