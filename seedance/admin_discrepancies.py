"""Runs Runflow made after we failed them (paid, not billed): shown to staff, resolved by
a person with a note that goes to the audit log; never changed by code once recorded."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse

from seedance.models import RunDiscrepancy
from seedance.services.discrepancies import discrepancy_resolve


class ResolveForm(forms.Form):
    note = forms.CharField(
        max_length=2000, strip=True, widget=forms.Textarea(attrs={"rows": 4, "cols": 60})
    )


class OpenFilter(admin.SimpleListFilter):
    """``?open=yes`` is the to-do list."""

    title = "resolved"
    parameter_name = "open"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Open"), ("no", "Resolved")]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[RunDiscrepancy]
    ) -> QuerySet[RunDiscrepancy]:
        if self.value() in ("yes", "no"):
            return queryset.filter(resolved_at__isnull=self.value() == "yes")
        return queryset


@admin.register(RunDiscrepancy)
class RunDiscrepancyAdmin(admin.ModelAdmin[RunDiscrepancy]):
    list_display = [
        "run",
        "kind",
        "provider_run_id",
        "provider_status",
        "cost",
        "detected_at",
        "resolved_at",
        "resolved_by",
    ]
    list_filter = [OpenFilter, "kind"]
    search_fields = ["run__id", "provider_run_id"]
    list_select_related = ["run", "resolved_by"]
    readonly_fields = [field.name for field in RunDiscrepancy._meta.fields]
    actions = ["mark_resolved"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # recorded by the reconciler from Runflow's answer

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(
        description="Mark selected discrepancies resolved (with a note)", permissions=["change"]
    )
    def mark_resolved(
        self, request: HttpRequest, queryset: QuerySet[RunDiscrepancy]
    ) -> TemplateResponse | None:
        discrepancies = list(queryset.select_related("run"))
        form = ResolveForm(request.POST if "confirm" in request.POST else None)
        if form.is_valid():
            note = form.cleaned_data["note"]
            resolved = sum(
                discrepancy_resolve(item.pk, user=request.user, note=note) for item in discrepancies
            )
            self.message_user(request, f"Resolved {resolved}.", messages.SUCCESS)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Resolve discrepancies",
            "opts": self.opts,
            "discrepancies": discrepancies,
            "open": [item for item in discrepancies if item.resolved_at is None],
            "form": form,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "media": self.media,
        }
        return TemplateResponse(
            request, "admin/seedance/rundiscrepancy/resolve_confirmation.html", context
        )
