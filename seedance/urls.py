"""seedance's non-API URLs: include under any prefix, namespace ``seedance``."""

from django.urls import include, path

from seedance.callbacks import RunflowCallbackView
from seedance.files import output_file, output_poster
from seedance.portal.share_urls import shared_urlpatterns

app_name = "seedance"

urlpatterns = [
    path(
        "hooks/runflow/runs/<str:run_id>/",
        RunflowCallbackView.as_view(),
        name="runflow-callback",
    ),
    path("files/<str:token>/", output_file, name="output-file"),
    path("files/<str:token>/poster/", output_poster, name="output-poster"),
    path("", include(shared_urlpatterns)),
]
