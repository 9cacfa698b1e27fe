"""Staff controls over tenants in the admin: suspend, resume, revoke every key, and the
audit log (read-only).

Each control is a bulk action that first shows a confirmation page asking why (as the
moderation actions do), then calls one service per tenant; the services write the audit
entry in the same transaction as the change.
"""

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse

from seedance.admin_views import REASON_MAX_CHARS
from seedance.audit import Action, Actor, audit_record, changes
from seedance.exceptions import TenantChangeRefused
from seedance.models import ApiKey, AuditEntry, Membership, Tenant
from seedance.outputs import outputs_apply_retention
from seedance.services.keys import api_key_revoke, api_key_revoke_all
from seedance.services.suspension import tenant_resume, tenant_suspend

SETTINGS_FIELDS = ("slug", "name", "output_retention_days")
CONFIRMATION_TEMPLATE = "admin/seedance/staff_action_confirmation.html"


def _reason_field(help_text: str) -> forms.CharField:
    return forms.CharField(
        max_length=REASON_MAX_CHARS,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        help_text=help_text,
    )


class StaffReasonForm(forms.Form):
    reason = _reason_field(
        "Why: kept in the audit log for staff; the tenant's admins see that staff acted, "
        "not this text."
    )


class SuspendForm(StaffReasonForm):
    notice = forms.CharField(
        required=False,
        max_length=REASON_MAX_CHARS,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Shown to the tenant's members on every portal page. Optional.",
    )


class TenantForm(forms.ModelForm[Tenant]):
    reason = _reason_field("Why: kept in the audit log for staff, with what changed.")

    class Meta:
        model = Tenant
        fields = ["slug", "name", "output_retention_days"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"].required = self.instance.pk is not None


class MembershipInline(admin.TabularInline[Membership, Tenant]):
    """Shown only: members change through the portal's services (the last-admin rule, the
    audit log) and join by invitation."""

    model = Membership
    extra = 0
    can_delete = False
    fields = ["user", "role", "created_at"]
    readonly_fields = ["user", "role", "created_at"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


Control = Callable[[Tenant, Actor, forms.Form], str]


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin[Tenant]):
    form = TenantForm
    list_display = ["slug", "name", "suspended_at", "created_at"]
    list_filter = [("suspended_at", admin.EmptyFieldListFilter)]
    search_fields = ["slug", "name"]
    readonly_fields = ["suspended_at", "suspension_reason", "suspension_notice"]
    inlines = [MembershipInline]
    actions = ["suspend_selected", "resume_selected", "revoke_all_keys"]

    @admin.display(description="Suspension reason (staff only)")
    def suspension_reason(self, tenant: Tenant) -> str:
        if not tenant.is_suspended:
            return "—"
        entry = (
            AuditEntry.objects.for_tenant(tenant)
            .filter(action=Action.TENANT_SUSPENDED)
            .order_by("-created_at", "-id")
            .first()
        )
        return f"{entry.reason} ({entry.actor_label})" if entry else "—"

    def save_model(self, request: HttpRequest, obj: Tenant, form: Any, change: bool) -> None:
        before = {name: form.initial.get(name) for name in SETTINGS_FIELDS}
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            if not change:
                return
            if before["output_retention_days"] != obj.output_retention_days:
                outputs_apply_retention(obj)
            after = {name: getattr(obj, name) for name in SETTINGS_FIELDS}
            if diff := changes(before, after):
                audit_record(
                    action=Action.TENANT_SETTINGS_CHANGED,
                    actor=Actor.staff(request.user),
                    tenant=obj,
                    target=obj.slug,
                    reason=form.cleaned_data["reason"],
                    details=diff,
                )

    @admin.action(description="Suspend selected tenants (with a reason)", permissions=["change"])
    def suspend_selected(
        self, request: HttpRequest, queryset: QuerySet[Tenant]
    ) -> TemplateResponse | None:
        def suspend(tenant: Tenant, actor: Actor, form: forms.Form) -> str:
            done = tenant_suspend(
                tenant=tenant,
                actor=actor,
                reason=form.cleaned_data["reason"],
                notice=form.cleaned_data["notice"],
            )
            return f"suspended {tenant.slug} ({done.canceled_runs} unsent runs canceled)"

        return self._confirm(
            request,
            queryset,
            action="suspend_selected",
            form_class=SuspendForm,
            title="Suspend tenants",
            warning=(
                "Their API keys answer 403 tenant_suspended, their portal shows a suspension "
                "page, their video links stop, and runs not yet sent are canceled (not "
                "billed). Runs already sent to Runflow finish and are billed."
            ),
            control=suspend,
        )

    @admin.action(description="Resume selected tenants (with a reason)", permissions=["change"])
    def resume_selected(
        self, request: HttpRequest, queryset: QuerySet[Tenant]
    ) -> TemplateResponse | None:
        def resume(tenant: Tenant, actor: Actor, form: forms.Form) -> str:
            tenant_resume(tenant=tenant, actor=actor, reason=form.cleaned_data["reason"])
            return f"resumed {tenant.slug}"

        return self._confirm(
            request,
            queryset,
            action="resume_selected",
            form_class=StaffReasonForm,
            title="Resume tenants",
            warning="Their keys (those not revoked), portal and video links work again.",
            control=resume,
        )

    @admin.action(
        description="Revoke every API key of selected tenants (with a reason)",
        permissions=["change"],
    )
    def revoke_all_keys(
        self, request: HttpRequest, queryset: QuerySet[Tenant]
    ) -> TemplateResponse | None:
        def revoke(tenant: Tenant, actor: Actor, form: forms.Form) -> str:
            count = api_key_revoke_all(
                tenant=tenant, actor=actor, reason=form.cleaned_data["reason"]
            )
            return f"revoked {count} key{'s' if count != 1 else ''} of {tenant.slug}"

        return self._confirm(
            request,
            queryset,
            action="revoke_all_keys",
            form_class=StaffReasonForm,
            title="Revoke every API key",
            warning="Every active key stops at once; a tenant admin issues new ones.",
            control=revoke,
        )

    def _confirm(
        self,
        request: HttpRequest,
        queryset: QuerySet[Tenant],
        *,
        action: str,
        form_class: type[forms.Form],
        title: str,
        warning: str,
        control: Control,
    ) -> TemplateResponse | None:
        """First call: the confirmation page. Its POST (reason given): each tenant in turn."""
        tenants = list(queryset.order_by("slug"))
        form = form_class(request.POST if "confirm" in request.POST else None)
        if form.is_valid():
            actor = Actor.staff(request.user)
            for tenant in tenants:
                try:
                    self.message_user(request, control(tenant, actor, form), messages.SUCCESS)
                except TenantChangeRefused as refused:
                    self.message_user(request, refused.message, messages.WARNING)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "warning": warning,
            "opts": self.opts,
            "tenants": tenants,
            "form": form,
            "action": action,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "media": self.media,
        }
        return TemplateResponse(request, CONFIRMATION_TEMPLATE, context)


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin[ApiKey]):
    """Keys are issued by a service that shows the secret once, and revoked by one that
    writes the audit log: nothing here edits a key directly."""

    list_display = ["name", "prefix", "tenant", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["tenant", ("revoked_at", admin.EmptyFieldListFilter)]
    readonly_fields = ["tenant", "name", "prefix", "created_at", "last_used_at", "revoked_at"]
    exclude = ["digest"]
    actions = ["revoke_selected"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: ApiKey | None = None) -> bool:
        return False  # revoked keys stay, so the log's key ids keep meaning something

    @admin.action(description="Revoke selected keys (with a reason)", permissions=["change"])
    def revoke_selected(
        self, request: HttpRequest, queryset: QuerySet[ApiKey]
    ) -> TemplateResponse | None:
        keys = list(queryset.select_related("tenant").order_by("tenant__slug", "pk"))
        form = StaffReasonForm(request.POST if "confirm" in request.POST else None)
        if form.is_valid():
            actor = Actor.staff(request.user)
            for key in keys:
                api_key_revoke(
                    tenant=key.tenant,
                    key_id=key.pk,
                    actor=actor,
                    reason=form.cleaned_data["reason"],
                )
            self.message_user(request, f"Revoked {len(keys)} key(s).", messages.SUCCESS)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Revoke API keys",
            "warning": "Apps using these keys get 401 at once.",
            "opts": self.opts,
            "keys": keys,
            "form": form,
            "action": "revoke_selected",
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "media": self.media,
        }
        return TemplateResponse(request, CONFIRMATION_TEMPLATE, context)


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin[AuditEntry]):
    """The log as written: filtered, searched, never added to, edited or deleted here."""

    list_display = ["created_at", "tenant_label", "action", "actor_label", "actor_role", "target"]
    list_filter = ["action", "actor_role", "tenant", "actor"]
    search_fields = ["tenant_label", "actor_label", "target", "reason"]
    date_hierarchy = "created_at"
    list_select_related = ["tenant", "actor"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [field.name for field in AuditEntry._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
