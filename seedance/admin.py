"""The platform admin: runs and the NSFW review queue for platform staff (tenants, keys and
the audit log are in ``seedance.admin_tenants``).

Moderation decisions go through ``seedance.moderation`` only: the bulk actions ask for a
reason on a confirmation page, then call ``run_approve``/``run_reject`` run by run.
"""

from collections.abc import Callable
from typing import Any, cast

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth.models import User
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html_join
from django.utils.safestring import SafeString
from django.utils.text import Truncator

from seedance import (
    admin_discrepancies,  # noqa: F401 - registers paid-not-billed runs
    admin_tenants,  # noqa: F401 - registers tenants, keys and the audit log
    admin_webhooks,  # noqa: F401 - registers webhook endpoints and deliveries
)
from seedance.admin_views import ModerationDecisionForm, staff_output_file
from seedance.compat import admin as compat_admin  # noqa: F401 - registers callbacks, secrets
from seedance.inbound import admin as inbound_admin  # noqa: F401 - registers the delivery lists
from seedance.models import ModerationDecision, OutputFile, Run, RunDiscrepancy
from seedance.moderation import run_approve, run_reject

Decide = Callable[..., bool]
PROMPT_EXCERPT_CHARS = 80


class ModerationFilter(admin.SimpleListFilter):
    """``?moderation=pending`` is the review queue."""

    title = "moderation"
    parameter_name = "moderation"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(str(value), str(label)) for value, label in Run.Moderation.choices]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Run]) -> QuerySet[Run]:
        if self.value() in Run.Moderation.values:
            return queryset.filter(moderation=self.value())
        return queryset


class ReadOnlyInline[T: Any](admin.TabularInline[T, Run]):
    """Shown to whoever may see the run; never added to, changed or deleted here."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("seedance.view_run") or request.user.has_perm(
            "seedance.change_run"
        )


class ModerationDecisionInline(ReadOnlyInline[ModerationDecision]):
    """The audit trail: who decided what, when and why."""

    model = ModerationDecision
    verbose_name_plural = "Moderation decisions (audit trail)"
    fields = ["decided_at", "decision", "decided_by", "reason"]
    readonly_fields = ["decided_at", "decision", "decided_by", "reason"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[ModerationDecision]:
        return super().get_queryset(request).select_related("decided_by")


class DiscrepancyInline(ReadOnlyInline[RunDiscrepancy]):
    model = RunDiscrepancy
    verbose_name_plural = "Discrepancies with Runflow (resolved in their own list)"
    fields = ["kind", "provider_run_id", "cost", "detected_at", "resolved_at", "note"]
    readonly_fields = ["kind", "provider_run_id", "cost", "detected_at", "resolved_at", "note"]


class OutputFileInline(ReadOnlyInline[OutputFile]):
    model = OutputFile
    verbose_name_plural = "Our copies of the outputs"
    fields = ["index", "file", "content_type", "size", "copied_at", "expires_at", "deleted_at"]
    readonly_fields = [
        "index",
        "file",
        "content_type",
        "size",
        "copied_at",
        "expires_at",
        "deleted_at",
    ]


@admin.register(Run)
class RunAdmin(admin.ModelAdmin[Run]):
    list_display = [
        "prompt_excerpt",
        "player",
        "tenant",
        "status",
        "delivery",
        "moderation",
        "nsfw_detected",
        "attention",
        "created_at",
    ]
    list_display_links = ["prompt_excerpt"]
    list_filter = [
        ModerationFilter,
        "attention",
        "status",
        "delivery",
        "nsfw_detected",
        "resolution",
        "tenant",
    ]
    search_fields = ["id", "provider_run_id", "end_user_id", "prompt"]
    date_hierarchy = "created_at"
    ordering = ["-created_at", "-id"]
    list_select_related = ["tenant"]
    list_per_page = 50
    readonly_fields = ["player", *(field.name for field in Run._meta.fields)]
    inlines = [ModerationDecisionInline, OutputFileInline, DiscrepancyInline]
    actions = ["approve_selected", "reject_selected"]
    change_list_template = "admin/seedance/run/change_list.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # runs are made by the API and the portal, through run_create

    def has_delete_permission(self, request: HttpRequest, obj: Run | None = None) -> bool:
        return False  # a run is the billing ledger's anchor; it is never deleted here

    def get_queryset(self, request: HttpRequest) -> QuerySet[Run]:
        stored = OutputFile.objects.filter(
            copied_at__isnull=False, deleted_at__isnull=True
        ).exclude(file="")
        return (
            super()
            .get_queryset(request)
            .prefetch_related(Prefetch("files", queryset=stored, to_attr="stored_files"))
        )

    def get_urls(self) -> list[URLPattern]:
        info = self.opts.app_label, self.opts.model_name
        own = [
            path(
                "files/<uuid:file_id>/",
                self.admin_site.admin_view(staff_output_file),
                name="{}_{}_file".format(*info),
            ),
            path(
                "review/",
                self.admin_site.admin_view(self.review_queue_view),
                name="{}_{}_review".format(*info),
            ),
        ]
        return own + super().get_urls()

    def review_queue_view(self, request: HttpRequest) -> HttpResponse:
        changelist = reverse("admin:seedance_run_changelist", current_app=self.admin_site.name)
        return HttpResponseRedirect(f"{changelist}?moderation={Run.Moderation.PENDING}")

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        context = {
            "pending_review_count": Run.objects.filter(moderation=Run.Moderation.PENDING).count(),
            "review_queue_url": reverse(
                "admin:seedance_run_review", current_app=self.admin_site.name
            ),
            **(extra_context or {}),
        }
        return super().changelist_view(request, extra_context=context)

    @admin.display(description="Prompt", ordering="prompt")
    def prompt_excerpt(self, run: Run) -> str:
        return Truncator(run.prompt).chars(PROMPT_EXCERPT_CHARS)

    @admin.display(description="Video")
    def player(self, run: Run) -> SafeString | str:
        files: list[OutputFile] = getattr(run, "stored_files", None) or list(
            run.files.filter(copied_at__isnull=False, deleted_at__isnull=True).exclude(file="")
        )
        if not files:
            return "—"
        return format_html_join(
            "",
            '<video class="moderation-player" src="{}#t=0.1" muted controls '
            'preload="metadata" playsinline width="200" height="112" '
            'data-output-index="{}"></video>',
            (
                (
                    reverse(
                        "admin:seedance_run_file",
                        kwargs={"file_id": record.pk},
                        current_app=self.admin_site.name,
                    ),
                    record.index,
                )
                for record in files
            ),
        )

    @admin.action(description="Approve selected runs (with a reason)", permissions=["change"])
    def approve_selected(
        self, request: HttpRequest, queryset: QuerySet[Run]
    ) -> TemplateResponse | None:
        return self._decide_selected(request, queryset, "approve_selected", run_approve)

    @admin.action(
        description="Reject selected runs and delete their videos (with a reason)",
        permissions=["change"],
    )
    def reject_selected(
        self, request: HttpRequest, queryset: QuerySet[Run]
    ) -> TemplateResponse | None:
        return self._decide_selected(request, queryset, "reject_selected", run_reject)

    def _decide_selected(
        self, request: HttpRequest, queryset: QuerySet[Run], action: str, decide: Decide
    ) -> TemplateResponse | None:
        """First call: the confirmation page. Its POST: decide each run still pending."""
        runs = list(queryset.order_by("-created_at", "-id"))
        form = ModerationDecisionForm(request.POST if "confirm" in request.POST else None)
        if form.is_valid():
            self._apply(request, runs, decide, form.cleaned_data["reason"])
            return None
        approving = action == "approve_selected"
        context = {
            **self.admin_site.each_context(request),
            "title": "Approve held runs" if approving else "Reject held runs",
            "opts": self.opts,
            "runs": runs,
            "pending": [run for run in runs if run.moderation == Run.Moderation.PENDING],
            "form": form,
            "action": action,
            "approving": approving,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "media": self.media,
        }
        return TemplateResponse(request, "admin/seedance/run/moderation_confirmation.html", context)

    def _apply(self, request: HttpRequest, runs: list[Run], decide: Decide, reason: str) -> None:
        staff = cast(User, request.user)
        selected = set(request.POST.getlist(helpers.ACTION_CHECKBOX_NAME))
        changed = sum(1 for run in runs if decide(run_id=run.pk, decided_by=staff, reason=reason))
        skipped = max(len(selected), len(runs)) - changed
        verb = "Approved" if decide is run_approve else "Rejected"
        self.message_user(
            request, f"{verb} {changed} run{'s' if changed != 1 else ''}.", messages.SUCCESS
        )
        if skipped:
            self.message_user(
                request,
                f"Skipped {skipped} run{'s' if skipped != 1 else ''}: no longer pending review.",
                messages.WARNING,
            )
