"""billing's non-API URLs (the Stripe webhook); the usage API lives in billing.api.urls."""

from django.urls import path

from billing.webhooks import StripeWebhookView

app_name = "billing"

urlpatterns = [
    path("hooks/stripe/", StripeWebhookView.as_view(), name="stripe-webhook"),
]
