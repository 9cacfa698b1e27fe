"""Portal pages: thin views over forms, selectors and services.

Every view goes through ``PortalMixin`` (sign-in plus the membership check of
``seedance.portal.access.current_membership``), and every run is looked up inside
``runs_visible_to(membership)``, so a run out of scope is a 404 like a missing one.
"""

from dataclasses import replace
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from django.contrib import messages
from django.core.paginator import Page, Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.views import View
from django.views.generic import TemplateView

from seedance.exceptions import InvalidRunInput, LimitExceeded, PaymentRequired, RunNotCancelable
from seedance.models import Membership, Run
from seedance.moderation import rejected_runs_billed, run_billable
from seedance.outcomes import PROVIDER_FAILED
from seedance.outputs import output_links
from seedance.portal.access import PortalMixin
from seedance.portal.code_samples import run_inputs
from seedance.portal.code_views import code_samples_context
from seedance.portal.forms import RunForm
from seedance.portal.progress import run_progress
from seedance.portal.run_filters import FILTER_PARAMS, RunHistoryFilter
from seedance.portal.selectors import (
    LIST_FILTERS,
    etas_for,
    run_counts_for,
    run_eta,
    run_list_for,
    runs_visible_to,
)
from seedance.public_status import shown
from seedance.run_input import parse_run_input
from seedance.services.runs import run_cancel, run_cancelable, run_create
from seedance.services.tenants import person_for
from seedance.states import RunStatus

RUNS_PER_PAGE = 20
#: How long a failed run's page keeps asking for Runflow's reason when the first read
#: of the failure carried only our fallback code (the reconciler backfills it).
REASON_WAIT = timedelta(minutes=3)
#: The runs list polls this often while a run on it moves, and slower otherwise (page
#: one only), so a run made in another tab or over the API appears.
ROWS_POLL_BUSY = "every 2s"
ROWS_POLL_IDLE = "every 5s"


class RunCreateView(PortalMixin, TemplateView):
    portal_section = "create"
    template_name = "seedance/portal/run_create.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        source = self._source_run(request.GET.get("from"))
        initial: dict[str, Any] = {}
        if source is not None:
            initial = {
                "prompt": source.prompt,
                "aspect_ratio": source.aspect_ratio,
                "duration": source.duration,
                "resolution": source.resolution,
                "generate_audio": source.generate_audio,
                "seed": source.seed if source.seed is not None else source.result_seed,
            }
        return self.render_to_response(
            self.get_context_data(form=RunForm(initial=initial), source=source)
        )

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = RunForm(request.POST)
        action: dict[str, str] | None = None
        if form.is_valid():
            person = person_for(self.membership.user)
            try:
                # The person's namespaced id is ours to set; tenant apps may not claim it.
                run_input = replace(
                    parse_run_input(form.run_input_data()), end_user_id=person.end_user_id
                )
                run, _ = run_create(
                    tenant=self.membership.tenant,
                    run_input=run_input,
                    created_by=self.membership.user,
                )
            except InvalidRunInput as exc:
                form.add_input_errors(exc)
            except (LimitExceeded, PaymentRequired) as exc:
                form.add_error(None, exc.message or "This run is over a limit of your account.")
                if isinstance(exc, PaymentRequired) and exc.action_url:
                    action = {"url": exc.action_url, "label": exc.action_label or "Fix this"}
            else:
                return redirect("portal:run-detail", run_id=run.pk)
        context = self.get_context_data(form=form, source=None, error_action=action)
        return self.render_to_response(context, status=200)

    def _source_run(self, run_id: str | None) -> Run | None:
        if not run_id:
            return None
        return _visible_run_or_404(self.membership, run_id)


class RunListView(PortalMixin, TemplateView):
    portal_section = "runs"
    template_name = "seedance/portal/run_list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(_runs_page(self.request, self.membership))
        return context


class RunRowsView(RunListView):
    """The runs table's body alone, polled by htmx while a run on the page is in progress."""

    template_name = "seedance/portal/_run_rows.html"


class RunDetailView(PortalMixin, TemplateView):
    portal_section = "runs"
    template_name = "seedance/portal/run_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        run = _visible_run_or_404(self.membership, kwargs["run_id"])
        context.update(run_status_context(run))
        if self.with_code_samples:
            context.update(code_samples_context(run_inputs(run)))
        return context

    with_code_samples = True


class RunStatusView(RunDetailView):
    """The run page's live part alone, polled by htmx until the run is settled."""

    template_name = "seedance/portal/_run_status.html"
    with_code_samples = False


class RunCancelView(PortalMixin, View):
    def post(self, request: HttpRequest, run_id: UUID) -> HttpResponse:
        run = _visible_run_or_404(self.membership, run_id)
        try:
            run_cancel(tenant=self.membership.tenant, run_id=run.pk)
        except RunNotCancelable as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "Run canceled. Nothing was sent and nothing is billed.")
        return redirect("portal:run-detail", run_id=run.pk)


def run_status_context(run: Run) -> dict[str, Any]:
    """What the run page and its polled fragment show: the status the API shows."""
    now = timezone.now()
    status = shown(run)
    video = next((link for link in output_links(run) if link.url), None)
    held = status == RunStatus.SUCCEEDED and run.moderation == Run.Moderation.PENDING
    rejected = status == RunStatus.SUCCEEDED and run.moderation == Run.Moderation.REJECTED
    preparing = run.status == RunStatus.SUCCEEDED and status == RunStatus.RUNNING
    in_progress = status in RunStatus.in_progress() and not preparing
    context: dict[str, Any] = {
        "run": run,
        "shown_status": status,
        "status_label": "held" if held else status,
        "failure_code": shown(run, "public_failure_code"),
        "failure_message": shown(run, "public_failure_message"),
        "in_progress": in_progress,
        "held": held,
        "rejected": rejected,
        "rejected_billed": rejected_runs_billed(),
        "video": video if status == RunStatus.SUCCEEDED else None,
        "preparing": preparing,
        "polling": in_progress or preparing or held or _reason_pending(run, status, now),
        "cancelable": run_cancelable(run),
        "billable": run_billable(run),
        "seed_used": run.result_seed if run.result_seed is not None else run.seed,
        "total_time": _duration_text(run.completed_at - run.created_at)
        if run.completed_at
        else None,
        "generation_time": _duration_text(timedelta(milliseconds=run.duration_ms))
        if run.duration_ms
        else None,
    }
    if in_progress:
        context.update(_progress(run, now))
    return context


def _reason_pending(run: Run, status: str, now: Any) -> bool:
    """A failure read before Runflow gave its reason: the page asks again for a while."""
    return (
        status == RunStatus.FAILED
        and shown(run, "public_failure_code") == PROVIDER_FAILED
        and not shown(run, "public_failure_message")
        and run.completed_at is not None
        and now - run.completed_at < REASON_WAIT
    )


def _progress(run: Run, now: Any) -> dict[str, Any]:
    elapsed = now - run.created_at
    estimate = run_eta(run)
    typical = estimate[0] if estimate else None
    progress: dict[str, Any] = {
        "elapsed": _duration_text(elapsed),
        "eta": None,
        "bar": run_progress(run, now=now, typical=typical),
    }
    if estimate is not None:
        typical, sample = estimate
        remaining = typical - elapsed
        progress.update(
            eta=_duration_text(remaining) if remaining.total_seconds() > 0 else None,
            overdue=remaining.total_seconds() <= 0,
            typical=_duration_text(typical),
            sample=sample,
        )
    return progress


def _runs_page(request: HttpRequest, membership: Membership) -> dict[str, Any]:
    status = request.GET.get("status", "")
    if status not in LIST_FILTERS:
        status = ""
    history = RunHistoryFilter(
        request.GET or None, queryset=run_list_for(membership, status=status), membership=membership
    )
    runs_found = history.queryset.none() if history.form.errors else history.qs
    paginator = Paginator(runs_found, RUNS_PER_PAGE)
    counts = run_counts_for(membership)
    page: Page[Run] = paginator.get_page(request.GET.get("page"))
    runs = list(page.object_list)
    kept = {
        name: request.GET[name]
        for name in FILTER_PARAMS
        if name in history.filters and request.GET.get(name)
    }
    query = {**({"status": status} if status else {}), **kept}
    moving = [run for run in runs if shown(run) in RunStatus.in_progress()]
    now = timezone.now()
    typical = etas_for(membership.tenant, moving)
    bars = {
        run.pk: run_progress(run, now=now, typical=typical.get((run.duration, run.resolution)))
        for run in moving
    }
    if moving:
        poll = ROWS_POLL_BUSY
    elif page.number == 1:
        poll = ROWS_POLL_IDLE
    else:
        poll = ""
    return {
        "page_obj": page,
        "rows": [(run, bars.get(run.pk)) for run in runs],
        "runs": runs,
        "status": status,
        "history": history,
        "history_query": urlencode(kept),
        "filtered": bool(kept),
        "filters": [
            ("", "All", sum(counts[name] for name in RunStatus.values)),
            *((name, name.capitalize(), counts[name]) for name in LIST_FILTERS),
        ],
        "polling": poll,
        "rows_query": urlencode({**query, "page": page.number}),
        "filter_query": urlencode(query),
        "show_creator": membership.role == Membership.Role.ADMIN,
    }


def _visible_run_or_404(membership: Membership, run_id: UUID | str) -> Run:
    try:
        pk = run_id if isinstance(run_id, UUID) else UUID(str(run_id))
    except ValueError:
        raise Http404("No such run.") from None
    return get_object_or_404(runs_visible_to(membership).select_related("tenant"), pk=pk)


def _duration_text(value: timedelta) -> str:
    seconds = max(0, int(value.total_seconds()))
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {seconds} s"
    return f"{seconds} s"
