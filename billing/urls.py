"""billing's non-API URLs (Stripe's webhooks and thin events); the usage API lives in
billing.api.urls."""

from django.urls import path

from billing.event_destination import StripeThinEventView
from billing.webhooks import StripeWebhookView

app_name = "billing"

urlpatterns = [
    path("hooks/stripe/", StripeWebhookView.as_view(), name="stripe-webhook"),
    path("hooks/stripe/events/", StripeThinEventView.as_view(), name="stripe-thin-events"),
]
