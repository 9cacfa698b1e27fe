"""Tenant admin pages for the tenant's webhook endpoints and their delivery log.

Admins only, like every manage page: anyone else, and another tenant's endpoint or
delivery id, gets a 404. A signing secret is in the one response that made it (create or
rotate, sent ``no-store``) and never again. Each view calls one service of
``seedance.webhooks.endpoints`` and renders or redirects; the service's refusals are shown
next to their fields or as a message, and change nothing.
"""

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.views import View
from django.views.generic import TemplateView

from seedance.audit import Actor
from seedance.compat.callback_secrets import (
    callback_secret_create,
    callback_secret_list,
    callback_secret_revoke,
)
from seedance.exceptions import InvalidWebhookEndpoint, WebhookActionRefused
from seedance.models import CallbackSecret, WebhookDelivery, WebhookEndpoint
from seedance.portal.access import PortalMixin
from seedance.portal.manage_forms import WebhookEndpointEnabledForm, WebhookEndpointForm
from seedance.portal.manage_views import AdminOnlyMixin
from seedance.webhooks.endpoints import (
    EndpointWithSecret,
    webhook_delivery_redeliver,
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_rotate_secret,
    webhook_endpoint_send_test,
    webhook_endpoint_update,
)
from seedance.webhooks.events import EVENT_TYPES
from seedance.webhooks.selectors import (
    webhook_delivery_get,
    webhook_delivery_list,
    webhook_endpoint_get,
    webhook_endpoint_list,
)

DELIVERIES_PER_PAGE = 20


class WebhooksView(PortalMixin, AdminOnlyMixin, TemplateView):
    """The tenant's endpoints and the form that adds one; and the callback secret of the
    Runflow-compatible surface, which signs each run's ``callback_url`` call."""

    portal_section = "manage"
    template_name = "seedance/portal/manage/webhooks.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.setdefault("form", WebhookEndpointForm())
        context["endpoints"] = webhook_endpoint_list(tenant=self.membership.tenant)
        context["callback_secrets"] = callback_secret_list(tenant=self.membership.tenant)[:5]
        return context

    def post(self, request: HttpRequest) -> HttpResponse:
        form = WebhookEndpointForm(request.POST)
        if form.is_valid():
            try:
                made = webhook_endpoint_create(
                    tenant=self.membership.tenant,
                    actor=Actor.tenant_admin(request.user),
                    **form.cleaned_data,
                )
            except InvalidWebhookEndpoint as invalid:
                form.add_service_errors(invalid.fields)
            else:
                return _secret_shown_once(self, made)
        return self.render_to_response(self.get_context_data(form=form))


class WebhookEndpointMixin(PortalMixin, AdminOnlyMixin):
    """``self.endpoint``: the tenant's endpoint named in the URL (404 for any other)."""

    endpoint: WebhookEndpoint

    def endpoint_or_404(self, endpoint_id: Any) -> WebhookEndpoint:
        try:
            self.endpoint = webhook_endpoint_get(
                tenant=self.membership.tenant, endpoint_id=endpoint_id
            )
        except WebhookEndpoint.DoesNotExist:
            raise Http404("No such webhook endpoint.") from None
        return self.endpoint


class WebhookEndpointView(WebhookEndpointMixin, TemplateView):
    """One endpoint: its settings and actions, and its delivery log, newest first."""

    portal_section = "manage"
    template_name = "seedance/portal/manage/webhook_endpoint.html"

    def get(self, request: HttpRequest, endpoint_id: Any) -> HttpResponse:
        self.endpoint_or_404(endpoint_id)
        return self.render_to_response(self.get_context_data())

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        endpoint = self.endpoint
        context.setdefault(
            "form",
            WebhookEndpointForm(
                initial={
                    "url": endpoint.url,
                    "events": endpoint.events,
                    "description": endpoint.description,
                }
            ),
        )
        deliveries = webhook_delivery_list(endpoint=endpoint)
        page = Paginator(deliveries, DELIVERIES_PER_PAGE).get_page(self.request.GET.get("page"))
        expires = endpoint.previous_secret_expires_at
        context.update(
            endpoint=endpoint,
            event_types=[(name, EVENT_TYPES.get(name, "")) for name in endpoint.events],
            previous_secret_signs_until=expires if expires and expires > timezone.now() else None,
            page_obj=page,
            deliveries=page.object_list,
            pending=WebhookDelivery.State.PENDING,
        )
        return context

    def post(self, request: HttpRequest, endpoint_id: Any) -> HttpResponse:
        endpoint = self.endpoint_or_404(endpoint_id)
        form = WebhookEndpointForm(request.POST)
        if form.is_valid():
            try:
                webhook_endpoint_update(
                    endpoint, actor=Actor.tenant_admin(request.user), **form.cleaned_data
                )
            except InvalidWebhookEndpoint as invalid:
                form.add_service_errors(invalid.fields)
            else:
                messages.success(request, "Endpoint saved.")
                return redirect("portal:webhook-endpoint", endpoint.pk)
        return self.render_to_response(self.get_context_data(form=form))


class WebhookEndpointRotateView(WebhookEndpointView):
    """A new secret, shown on the endpoint's page this once; the old one keeps signing
    beside it until the overlap ends, so the app can switch without missing a delivery."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest, endpoint_id: Any) -> HttpResponse:
        endpoint = self.endpoint_or_404(endpoint_id)
        rotated = webhook_endpoint_rotate_secret(endpoint, actor=Actor.tenant_admin(request.user))
        self.endpoint = rotated.endpoint
        return _secret_shown_once(self, rotated, rotated=True)


class WebhookEndpointEnabledView(WebhookEndpointMixin, View):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, endpoint_id: Any) -> HttpResponse:
        endpoint = self.endpoint_or_404(endpoint_id)
        form = WebhookEndpointEnabledForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Choose to enable or to disable the endpoint.")
        else:
            enabled = form.cleaned_data["enabled"]
            webhook_endpoint_update(
                endpoint, enabled=enabled, actor=Actor.tenant_admin(request.user)
            )
            messages.success(
                request,
                "Endpoint enabled: its pending deliveries go out again, in order."
                if enabled
                else "Endpoint disabled: nothing is sent to it until it is enabled again.",
            )
        return redirect("portal:webhook-endpoint", endpoint.pk)


class WebhookEndpointDeleteView(WebhookEndpointMixin, View):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, endpoint_id: Any) -> HttpResponse:
        endpoint = self.endpoint_or_404(endpoint_id)
        url = endpoint.url
        webhook_endpoint_delete(endpoint, actor=Actor.tenant_admin(request.user))
        messages.success(request, f"Endpoint {url} deleted, with its delivery log.")
        return redirect("portal:webhooks")


class WebhookEndpointTestView(WebhookEndpointMixin, View):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, endpoint_id: Any) -> HttpResponse:
        endpoint = self.endpoint_or_404(endpoint_id)
        try:
            event = webhook_endpoint_send_test(endpoint)
        except WebhookActionRefused as refused:
            messages.error(request, refused.message)
        else:
            messages.success(
                request, f"Test event {event.pk} queued: it appears in the log below once sent."
            )
        return redirect("portal:webhook-endpoint", endpoint.pk)


class WebhookDeliveryRedeliverView(PortalMixin, AdminOnlyMixin, View):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, delivery_id: int) -> HttpResponse:
        try:
            delivery = webhook_delivery_get(tenant=self.membership.tenant, delivery_id=delivery_id)
        except WebhookDelivery.DoesNotExist:
            raise Http404("No such delivery.") from None
        try:
            webhook_delivery_redeliver(delivery)
        except WebhookActionRefused as refused:
            messages.info(request, refused.message)
        else:
            messages.success(
                request, f"{delivery.event_id} is sent again shortly, with the same webhook-id."
            )
        return redirect("portal:webhook-endpoint", delivery.endpoint_id)


def _secret_shown_once(
    view: TemplateView, made: EndpointWithSecret, *, rotated: bool = False
) -> HttpResponse:
    """The page with the new secret on it; no cache may keep a copy of this response."""
    response = view.render_to_response(
        view.get_context_data(new_secret=made.secret, new_endpoint=made.endpoint, rotated=rotated)
    )
    response["Cache-Control"] = "no-store"
    return response


class CallbackSecretCreateView(WebhooksView):
    """A new Runflow-style callback secret, shown on the webhooks page this once."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest) -> HttpResponse:
        _, value = callback_secret_create(
            tenant=self.membership.tenant, actor=Actor.tenant_admin(request.user)
        )
        response = self.render_to_response(self.get_context_data(new_callback_secret=value))
        response["Cache-Control"] = "no-store"
        return response


class CallbackSecretRevokeView(PortalMixin, AdminOnlyMixin, View):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, secret_id: Any) -> HttpResponse:
        try:
            callback_secret_revoke(
                tenant=self.membership.tenant,
                secret_id=secret_id,
                actor=Actor.tenant_admin(request.user),
            )
        except CallbackSecret.DoesNotExist:
            raise Http404("No such callback secret.") from None
        messages.success(
            request, "Callback secret revoked: callbacks go unsigned until you make one."
        )
        return redirect("portal:webhooks")
