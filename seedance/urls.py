"""seedance's non-API URLs: include under any prefix, namespace ``seedance``."""

from django.urls import path

from seedance.callbacks import RunflowCallbackView

app_name = "seedance"

urlpatterns = [
    path(
        "hooks/runflow/runs/<str:run_id>/",
        RunflowCallbackView.as_view(),
        name="runflow-callback",
    ),
]
