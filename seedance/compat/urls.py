"""Runflow's paths, at the host root: its SDK adds ``/v1`` to the base URL it is given."""

from django.urls import path, re_path

from seedance.compat import MODEL_ID, views
from seedance.compat.fallbacks import runflow_not_found

app_name = "runflow_compat"

urlpatterns = [
    path("health", views.Health.as_view(), name="health"),
    path(f"models/{MODEL_ID}/runs", views.ModelRunCollection.as_view(), name="model-runs"),
    path("models/<path:model_id>/runs", views.OtherModelRuns.as_view(), name="other-model-runs"),
    path("runs", views.RunCollection.as_view(), name="runs"),
    path("runs/<str:run_id>", views.RunDetail.as_view(), name="run-detail"),
    path("callback-secrets", views.CallbackSecretCollection.as_view(), name="callback-secrets"),
    path(
        "callback-secrets/<str:secret_id>",
        views.CallbackSecretDetail.as_view(),
        name="callback-secret-detail",
    ),
    re_path(r"^.*$", runflow_not_found),
]
