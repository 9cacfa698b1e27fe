"""billing's portal pages: usage, the live price estimate fragment, and the caps page.

Views stay thin: they read the membership (seedance.portal.access), call one service or
selector, and render. seedance links here by URL name and never imports billing.
"""

from decimal import Decimal
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views import View
from django.views.generic import TemplateView

from billing.conf import stripe_enabled
from billing.models import EndUserLimit, UsageRecord
from billing.portal.banners import cap_banners
from billing.portal.forms import CapsForm, EndUserLimitForm
from billing.portal.services import (
    days_of_month,
    end_user_labels,
    end_user_limit_remove,
    end_user_limit_set,
    invoice_comparison,
    person_end_user_id,
    tenant_caps_update,
    usage_overview,
    usd,
    usd_per_second,
)
from billing.portal.svg import daily_bar_chart
from billing.pricing import price_estimate
from billing.selectors import end_user_limits, run_cost_settled, run_money, tenant_billing
from billing.stripe_client import stripe_client
from seedance.audit import Actor
from seedance.models import Membership
from seedance.portal.access import PortalMixin
from seedance.portal.manage_views import AdminOnlyMixin
from seedance.portal.selectors import runs_visible_to
from seedance.run_input import DURATIONS, RESOLUTIONS


class UsageView(PortalMixin, TemplateView):
    """This month: totals, a per-day chart, budgets; per end user for tenant admins."""

    portal_section = "usage"

    template_name = "billing/usage.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        is_admin = self.membership.role == Membership.Role.ADMIN
        own_end_user_id = None if is_admin else person_end_user_id(user_id=self.membership.user_id)
        overview = usage_overview(
            tenant=self.membership.tenant,
            end_user_id=own_end_user_id,
            include_end_users=is_admin,
        )
        by_day = {group.key: group for group in overview.days}
        month = overview.start.strftime("%B %Y")
        days = days_of_month(overview.start)
        chart = daily_bar_chart(
            chart_id="usage-chart",
            days=days,
            values={
                day: by_day[day.isoformat()].amount for day in days if day.isoformat() in by_day
            },
            title=f"Amount per day, {month}",
            description=(
                f"{len(overview.days)} days with usage in {month}; "
                f"{overview.totals.seconds} seconds, {usd(overview.totals.amount)} in total."
            ),
            value_label=usd,
            bar_note=lambda day: f" · {by_day[day.isoformat()].seconds} s",
        )
        # A tenant's month is what its invoice will say: lines rounded one by one.
        invoice = invoice_comparison(tenant=self.membership.tenant, client=None)
        context.update(
            overview=overview,
            month=month,
            chart=chart,
            is_admin=is_admin,
            invoice=invoice,
            total_amount=usd(invoice.ledger_total if is_admin else overview.totals.amount),
            cap_banners=cap_banners(tenant=self.membership.tenant, end_user_id=own_end_user_id),
        )
        return context


class InvoicePreviewView(PortalMixin, AdminOnlyMixin, View):
    """An htmx fragment for tenant admins: the ledger's invoice lines beside the lines of
    Stripe's own invoice preview, asked live (so the usage page never waits for Stripe)."""

    def get(self, request: HttpRequest) -> HttpResponse:
        client = stripe_client() if stripe_enabled() else None
        invoice = invoice_comparison(tenant=self.membership.tenant, client=client)
        return render(
            request,
            "billing/invoice_preview.html",
            {"invoice": invoice, "stripe_on": client is not None},
        )


class EstimateView(PortalMixin, View):
    """An htmx fragment: what a run with these settings will bill, as the ledger bills it."""

    def get(self, request: HttpRequest) -> HttpResponse:
        resolution = request.GET.get("resolution", "720p")
        duration = request.GET.get("duration", "auto")
        if resolution not in RESOLUTIONS or duration not in DURATIONS:
            return render(
                request,
                "billing/estimate.html",
                {"error": "Pick a resolution and a duration (auto or 4 to 15 s)."},
                status=400,
            )
        estimate = price_estimate(
            tenant=self.membership.tenant, resolution=resolution, duration=duration
        )
        return render(
            request,
            "billing/estimate.html",
            {
                "estimate": estimate,
                "low": usd(estimate.min_amount),
                "high": usd(estimate.max_amount),
                "unit": usd_per_second(estimate.unit_price),
                "is_range": estimate.min_seconds != estimate.max_seconds,
            },
        )


class CapsView(PortalMixin, AdminOnlyMixin, TemplateView):
    """Tenant admins: the tenant's spend and concurrency caps, and per-end-user overrides."""

    portal_section = "manage"

    template_name = "billing/caps.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        tenant = self.membership.tenant
        if "form" not in context:
            billing = tenant_billing(tenant=tenant)
            context["form"] = CapsForm(
                initial={
                    "monthly_spend_cap": _plain(billing.monthly_spend_cap if billing else None),
                    "max_in_flight_runs": billing.max_in_flight_runs if billing else None,
                    "end_user_monthly_spend_cap": _plain(
                        billing.end_user_monthly_spend_cap if billing else None
                    ),
                }
            )
        context.setdefault("limit_form", EndUserLimitForm())
        limits = end_user_limits(tenant=tenant)
        labels = end_user_labels(
            tenant=self.membership.tenant, end_user_ids=[limit.end_user_id for limit in limits]
        )
        context["limits"] = [(limit, labels[limit.end_user_id]) for limit in limits]
        return context

    def post(self, request: HttpRequest) -> HttpResponse:
        form = CapsForm(request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form))
        tenant_caps_update(
            tenant=self.membership.tenant,
            actor=Actor.tenant_admin(request.user),
            **form.cleaned_data,
        )
        messages.success(request, "Caps saved.")
        return redirect("billing_portal:caps")


class EndUserLimitAddView(CapsView):
    """Add or change one end user's monthly cap; errors re-render the caps page."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest) -> HttpResponse:
        form = EndUserLimitForm(request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(limit_form=form))
        end_user_limit_set(
            tenant=self.membership.tenant,
            actor=Actor.tenant_admin(request.user),
            **form.cleaned_data,
        )
        messages.success(request, f"Cap set for {form.cleaned_data['end_user_id']}.")
        return redirect("billing_portal:caps")


class EndUserLimitRemoveView(PortalMixin, AdminOnlyMixin, View):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, limit_id: int) -> HttpResponse:
        try:
            end_user_limit_remove(
                tenant=self.membership.tenant,
                limit_id=limit_id,
                actor=Actor.tenant_admin(request.user),
            )
        except EndUserLimit.DoesNotExist:
            raise Http404("No such override.") from None
        messages.success(request, "Override removed.")
        return redirect("billing_portal:caps")


def _plain(amount: Decimal | None) -> Decimal | None:
    """A stored cap as a person typed it: 100.000000 shows as 100.00."""
    if amount is None:
        return None
    cents = amount.quantize(Decimal("0.01"))
    return cents if cents == amount else amount.normalize()


class RunCostView(PortalMixin, View):
    """An htmx fragment: what one run costs, from the ledger, never from today's prices.

    In flight: the reservation at the unit price frozen at create. Finished: the ledger's
    amount (voided or waiting for review when moderation says so), or "not billed". The
    fragment asks again every few seconds until the cost stops changing.
    """

    def get(self, request: HttpRequest, run_id: UUID) -> HttpResponse:
        run = get_object_or_404(runs_visible_to(self.membership), pk=run_id)
        charge, record = run_money(tenant=self.membership.tenant, run_id=run.pk)
        return render(
            request,
            "billing/run_cost.html",
            {
                "run": run,
                "record": record,
                "amount": usd(record.amount) if record else None,
                "reserved": usd(charge.amount) if charge and not run.is_terminal else None,
                "unit": usd_per_second(charge.unit_price) if charge else None,
                "Pushed": UsageRecord.PushState,
                "settled": run_cost_settled(run_is_terminal=run.is_terminal, record=record),
            },
        )
