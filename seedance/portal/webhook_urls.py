"""The webhook endpoint pages, included under ``manage/webhooks/`` in the ``portal`` namespace."""

from django.urls import path

from seedance.portal import webhook_views as views

urlpatterns = [
    path("", views.WebhooksView.as_view(), name="webhooks"),
    path("<uuid:endpoint_id>/", views.WebhookEndpointView.as_view(), name="webhook-endpoint"),
    path(
        "<uuid:endpoint_id>/enabled/",
        views.WebhookEndpointEnabledView.as_view(),
        name="webhook-endpoint-enabled",
    ),
    path(
        "<uuid:endpoint_id>/rotate/",
        views.WebhookEndpointRotateView.as_view(),
        name="webhook-endpoint-rotate",
    ),
    path(
        "<uuid:endpoint_id>/delete/",
        views.WebhookEndpointDeleteView.as_view(),
        name="webhook-endpoint-delete",
    ),
    path(
        "<uuid:endpoint_id>/test/",
        views.WebhookEndpointTestView.as_view(),
        name="webhook-endpoint-test",
    ),
    path(
        "callback-secrets/",
        views.CallbackSecretCreateView.as_view(),
        name="callback-secret-create",
    ),
    path(
        "callback-secrets/<uuid:secret_id>/revoke/",
        views.CallbackSecretRevokeView.as_view(),
        name="callback-secret-revoke",
    ),
    path(
        "deliveries/<int:delivery_id>/redeliver/",
        views.WebhookDeliveryRedeliverView.as_view(),
        name="webhook-delivery-redeliver",
    ),
]
