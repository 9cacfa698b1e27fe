from django.urls import path

from seedance.api import views, webhook_views

app_name = "api"

urlpatterns = [
    path("runs", views.RunCollectionApi.as_view(), name="runs"),
    path("runs/<str:run_id>", views.RunDetailApi.as_view(), name="run-detail"),
    path("runs/<str:run_id>/cancel", views.RunCancelApi.as_view(), name="run-cancel"),
    path(
        "webhooks/endpoints",
        webhook_views.WebhookEndpointCollectionApi.as_view(),
        name="webhook-endpoints",
    ),
    path(
        "webhooks/endpoints/<str:endpoint_id>",
        webhook_views.WebhookEndpointDetailApi.as_view(),
        name="webhook-endpoint-detail",
    ),
    path(
        "webhooks/endpoints/<str:endpoint_id>/rotate-secret",
        webhook_views.WebhookEndpointRotateSecretApi.as_view(),
        name="webhook-endpoint-rotate-secret",
    ),
    path(
        "webhooks/endpoints/<str:endpoint_id>/test",
        webhook_views.WebhookEndpointTestApi.as_view(),
        name="webhook-endpoint-test",
    ),
    path(
        "webhooks/endpoints/<str:endpoint_id>/deliveries",
        webhook_views.WebhookDeliveryListApi.as_view(),
        name="webhook-endpoint-deliveries",
    ),
    path(
        "webhooks/deliveries/<str:delivery_id>/redeliver",
        webhook_views.WebhookDeliveryRedeliverApi.as_view(),
        name="webhook-delivery-redeliver",
    ),
    path(
        "webhooks/event-types",
        webhook_views.EventTypeListApi.as_view(),
        name="webhook-event-types",
    ),
]
