"""seedance's non-API URLs: include under any prefix, namespace ``seedance``."""

from django.urls import path

from seedance.callbacks import RunflowCallbackView
from seedance.files import output_file

app_name = "seedance"

urlpatterns = [
    path(
        "hooks/runflow/runs/<str:run_id>/",
        RunflowCallbackView.as_view(),
        name="runflow-callback",
    ),
    path("files/<str:token>/", output_file, name="output-file"),
]
