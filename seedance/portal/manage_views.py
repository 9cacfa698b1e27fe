"""Tenant admin pages: the hub, API keys, members and the tenant's settings (webhook
endpoints have their own module, seedance.portal.webhook_views).

Every page is for the tenant's admins only: anyone else gets a 404, as does another
tenant's object id. Each view reads the membership (seedance.portal.access), calls one
service and renders or redirects.
"""

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views import View
from django.views.generic import TemplateView

from seedance.audit import Actor
from seedance.exceptions import TenantChangeRefused
from seedance.models import ApiKey, AuditEntry, Invitation, Membership
from seedance.portal.access import PortalMixin
from seedance.portal.manage_forms import (
    ApiKeyCreateForm,
    InvitationForm,
    MemberRoleForm,
    TenantSettingsForm,
)
from seedance.portal.selectors import invitations_open
from seedance.services.keys import api_key_issue, api_key_revoke
from seedance.services.members import (
    invitation_create,
    invitation_revoke,
    member_remove,
    member_role_set,
)
from seedance.services.tenants import tenant_settings_update
from seedance.webhooks.selectors import webhook_endpoint_list


class AdminOnlyMixin(View):
    """Place after PortalMixin: a non-admin gets a 404, so manage pages are not revealed."""

    membership: Membership

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if self.membership.role != Membership.Role.ADMIN:
            raise Http404("No such page.")
        return super().dispatch(request, *args, **kwargs)


class ManageHomeView(PortalMixin, AdminOnlyMixin, TemplateView):
    portal_section = "manage"
    template_name = "seedance/portal/manage/home.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        tenant = self.membership.tenant
        context["active_keys"] = (
            ApiKey.objects.for_tenant(tenant).filter(revoked_at__isnull=True).count()
        )
        context["member_count"] = Membership.objects.for_tenant(tenant).count()
        context["webhook_endpoint_count"] = webhook_endpoint_list(tenant=tenant).count()
        return context


class KeysView(PortalMixin, AdminOnlyMixin, TemplateView):
    """The tenant's API keys; a new key's secret is in this one response and never again."""

    portal_section = "manage"

    template_name = "seedance/portal/manage/keys.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.setdefault("form", ApiKeyCreateForm())
        context["keys"] = ApiKey.objects.for_tenant(self.membership.tenant).order_by(
            "revoked_at", "-created_at"
        )
        return context

    def post(self, request: HttpRequest) -> HttpResponse:
        form = ApiKeyCreateForm(request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form))
        issued = api_key_issue(
            tenant=self.membership.tenant,
            name=form.cleaned_data["name"],
            actor=Actor.tenant_admin(request.user),
        )
        response = self.render_to_response(self.get_context_data(new_key=issued))
        response["Cache-Control"] = "no-store"
        return response


class KeyRevokeView(PortalMixin, AdminOnlyMixin, View):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, key_id: int) -> HttpResponse:
        tenant = self.membership.tenant
        key = get_object_or_404(ApiKey.objects.for_tenant(tenant), pk=key_id)
        api_key_revoke(tenant=tenant, key_id=key.pk, actor=Actor.tenant_admin(request.user))
        messages.success(request, f"Key “{key.name}” ({key.prefix}…) revoked.")
        return redirect("portal:keys")


class MembersView(PortalMixin, AdminOnlyMixin, TemplateView):
    """The tenant's members, its invitations not yet answered, and the invite form."""

    portal_section = "manage"
    template_name = "seedance/portal/manage/members.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        tenant = self.membership.tenant
        context.setdefault("form", InvitationForm())
        context["members"] = (
            Membership.objects.for_tenant(tenant).select_related("user").order_by("user__username")
        )
        context["invitations"] = invitations_open(tenant=tenant)
        context["roles"] = Membership.Role.choices
        return context

    def post(self, request: HttpRequest) -> HttpResponse:
        form = InvitationForm(request.POST)
        if form.is_valid():
            try:
                issued = invitation_create(
                    tenant=self.membership.tenant,
                    actor=Actor.tenant_admin(request.user),
                    **form.cleaned_data,
                )
            except TenantChangeRefused as refused:
                form.add_error("email", refused.message)
            else:
                invitation = issued.invitation
                messages.success(
                    request,
                    f"Invited {invitation.email}: they join once they accept "
                    f"(the invitation expires {invitation.expires_at:%b %-d, %Y %H:%M} UTC).",
                )
                return redirect("portal:members")
        return self.render_to_response(self.get_context_data(form=form))


class InvitationRevokeView(PortalMixin, AdminOnlyMixin, View):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, invitation_id: int) -> HttpResponse:
        tenant = self.membership.tenant
        target = get_object_or_404(Invitation.objects.for_tenant(tenant), pk=invitation_id)
        try:
            invitation_revoke(
                tenant=tenant, invitation_id=target.pk, actor=Actor.tenant_admin(request.user)
            )
        except TenantChangeRefused as refused:
            messages.error(request, refused.message)
        else:
            messages.success(request, f"Invitation to {target.email} revoked.")
        return redirect("portal:members")


class MemberRoleView(PortalMixin, AdminOnlyMixin, View):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, membership_id: int) -> HttpResponse:
        tenant = self.membership.tenant
        target = get_object_or_404(Membership.objects.for_tenant(tenant), pk=membership_id)
        form = MemberRoleForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Pick a role.")
            return redirect("portal:members")
        try:
            member_role_set(
                tenant=tenant,
                membership_id=target.pk,
                role=form.cleaned_data["role"],
                actor=Actor.tenant_admin(request.user),
            )
        except TenantChangeRefused as refused:
            messages.error(request, refused.message)
            return redirect("portal:members")
        messages.success(request, "Role changed.")
        if target.pk == self.membership.pk and form.cleaned_data["role"] != Membership.Role.ADMIN:
            return redirect("portal:home")
        return redirect("portal:members")


class MemberRemoveView(PortalMixin, AdminOnlyMixin, View):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, membership_id: int) -> HttpResponse:
        tenant = self.membership.tenant
        target = get_object_or_404(Membership.objects.for_tenant(tenant), pk=membership_id)
        try:
            removed = member_remove(
                tenant=tenant, membership_id=target.pk, actor=Actor.tenant_admin(request.user)
            )
        except TenantChangeRefused as refused:
            messages.error(request, refused.message)
            return redirect("portal:members")
        messages.success(request, f"Removed {removed.user.get_username()} from {tenant.name}.")
        return redirect("portal:home" if target.pk == self.membership.pk else "portal:members")


class TenantSettingsView(PortalMixin, AdminOnlyMixin, TemplateView):
    portal_section = "manage"
    template_name = "seedance/portal/manage/settings.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        tenant = self.membership.tenant
        context.setdefault(
            "form",
            TenantSettingsForm(
                initial={"name": tenant.name, "output_retention_days": tenant.output_retention_days}
            ),
        )
        return context

    def post(self, request: HttpRequest) -> HttpResponse:
        form = TenantSettingsForm(request.POST)
        if form.is_valid():
            try:
                tenant_settings_update(
                    tenant=self.membership.tenant,
                    actor=Actor.tenant_admin(request.user),
                    **form.cleaned_data,
                )
            except TenantChangeRefused as refused:
                form.add_error(None, refused.message)
            else:
                messages.success(request, "Settings saved.")
                return redirect("portal:tenant-settings")
        return self.render_to_response(self.get_context_data(form=form))


AUDIT_ENTRIES_PER_PAGE = 50


class AuditLogView(PortalMixin, AdminOnlyMixin, TemplateView):
    """Read-only: who changed the tenant's keys, members, webhook endpoints, caps and
    standing, when and why.
    Staff appear as "Platform staff" and their internal reason is not shown."""

    portal_section = "manage"
    template_name = "seedance/portal/manage/audit_log.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        entries = AuditEntry.objects.for_tenant(self.membership.tenant).order_by(
            "-created_at", "-id"
        )
        page = Paginator(entries, AUDIT_ENTRIES_PER_PAGE).get_page(self.request.GET.get("page"))
        context.update(page_obj=page, rows=[audit_row(entry) for entry in page.object_list])
        return context


def audit_row(entry: AuditEntry) -> dict[str, Any]:
    """One entry as a tenant admin reads it."""
    staff = entry.actor_role == AuditEntry.ActorRole.STAFF
    return {
        "entry": entry,
        "actor": "Platform staff" if staff else entry.actor_label,
        "reason": "" if staff else entry.reason,
        "details": [
            f"{name}: {_shown(value['before'])} → {_shown(value['after'])}"
            if isinstance(value, dict) and set(value) == {"before", "after"}
            else f"{name}: {_shown(value)}"
            for name, value in entry.details.items()
        ],
    }


def _shown(value: Any) -> str:
    if value is None or value == "":
        return "none"
    if isinstance(value, list):
        return ", ".join(str(item) for item in value) or "none"
    return str(value)
