"""The tenant admin's billing page: the card on file, the billing email, and the ways to
Stripe (Checkout in setup mode to add or replace a card, the Billing Portal).

Coming back from Checkout shows status only: the server reads the session from Stripe and
applies a completed one; an unfinished one changes nothing, whatever the URL says.
"""

from typing import Any

import stripe
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.csp import CSP
from django.views import View
from django.views.decorators.csp import csp_override
from django.views.generic import TemplateView

from billing.checkout import SESSION_ID, checkout_session_apply, checkout_start
from billing.conf import stripe_enabled, stripe_hosted_origins
from billing.customer_portal import portal_session_url
from billing.exceptions import BillingNotReady, CheckoutNotOurs
from billing.payment_methods import billing_email_update
from billing.portal.forms import BillingEmailForm
from billing.selectors import payment_method_status, tenant_billing
from billing.stripe_client import stripe_client
from seedance.portal.access import PortalMixin
from seedance.portal.manage_views import AdminOnlyMixin

UNREACHABLE = "Stripe could not be reached just now; nothing changed. Try again in a minute."
NOT_READY = "Billing for this tenant is still being set up at Stripe; try again in a minute."


class BillingView(PortalMixin, AdminOnlyMixin, TemplateView):
    portal_section = "manage"
    template_name = "billing/billing.html"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        """Its Checkout and portal forms are answered with a redirect to Stripe, which the
        browser checks against this page's form-action: only here may a form go there."""
        policy = settings.SECURE_CSP
        if not policy:
            return super().dispatch(request, *args, **kwargs)
        widened = {
            **policy,
            "form-action": [*policy.get("form-action", [CSP.SELF]), *stripe_hosted_origins()],
        }
        return csp_override(widened)(super().dispatch)(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        tenant = self.membership.tenant
        billing = tenant_billing(tenant=tenant)
        context.update(
            billing=billing,
            status=payment_method_status(billing=billing, tenant=tenant),
            stripe_enabled=stripe_enabled(),
            ready=bool(billing and billing.stripe_customer_id),
        )
        context.setdefault(
            "email_form",
            BillingEmailForm(initial={"email": billing.billing_email if billing else ""}),
        )
        return context

    def post(self, request: HttpRequest) -> HttpResponse:
        """The billing email: validated here, then set on the Stripe customer."""
        form = BillingEmailForm(request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(email_form=form))
        try:
            billing_email_update(
                tenant=self.membership.tenant,
                email=form.cleaned_data["email"],
                client=stripe_client(),
            )
        except ValidationError as exc:
            form.add_error("email", exc)
            return self.render_to_response(self.get_context_data(email_form=form))
        except BillingNotReady:
            messages.error(request, NOT_READY)
        except stripe.StripeError:
            messages.error(request, UNREACHABLE)
        else:
            messages.success(request, "Billing email saved.")
        return redirect("billing_portal:billing")


class CheckoutStartView(PortalMixin, AdminOnlyMixin, View):
    http_method_names = ["post"]

    def post(self, request: HttpRequest) -> HttpResponse:
        back = request.build_absolute_uri(reverse("billing_portal:billing"))
        done = request.build_absolute_uri(reverse("billing_portal:checkout-done"))
        try:
            url = checkout_start(
                tenant=self.membership.tenant,
                success_url=f"{done}?session_id={SESSION_ID}",
                cancel_url=f"{back}?checkout=canceled",
                client=stripe_client(),
            )
        except BillingNotReady:
            messages.error(request, NOT_READY)
            return redirect("billing_portal:billing")
        except stripe.StripeError:
            messages.error(request, UNREACHABLE)
            return redirect("billing_portal:billing")
        return redirect(url)


class CheckoutDoneView(PortalMixin, AdminOnlyMixin, View):
    """Checkout's success URL: a server-side read of the session decides, never the URL."""

    def get(self, request: HttpRequest) -> HttpResponse:
        session_id = request.GET.get("session_id", "")
        try:
            applied = bool(session_id) and checkout_session_apply(
                session_id, client=stripe_client(), tenant=self.membership.tenant
            )
        except (CheckoutNotOurs, stripe.InvalidRequestError):
            applied = False
        except stripe.StripeError:
            messages.error(request, UNREACHABLE)
            return redirect("billing_portal:billing")
        if applied:
            messages.success(request, "Card saved: it pays this tenant's invoices from now on.")
        else:
            messages.error(request, "Checkout was not completed: no card was saved.")
        return redirect("billing_portal:billing")


class CustomerPortalView(PortalMixin, AdminOnlyMixin, View):
    http_method_names = ["post"]

    def post(self, request: HttpRequest) -> HttpResponse:
        back = request.build_absolute_uri(reverse("billing_portal:billing"))
        try:
            url = portal_session_url(
                tenant=self.membership.tenant, return_url=back, client=stripe_client()
            )
        except BillingNotReady:
            messages.error(request, NOT_READY)
            return redirect("billing_portal:billing")
        except stripe.StripeError:
            messages.error(request, UNREACHABLE)
            return redirect("billing_portal:billing")
        return redirect(url)
