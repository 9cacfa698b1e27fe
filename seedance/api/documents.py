"""The schema and its Swagger UI: documents, so GET and HEAD only, refused in the error shape.

drf-spectacular loads its extensions lazily on a process's first generation, and not
thread-safely: concurrent first requests to a fresh worker answered 500. Generation is
therefore serialised per process (it is rare and a few hundred milliseconds).
"""

import threading
from collections.abc import Sequence
from typing import Any

from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

_generation = threading.Lock()


class _Document:
    """GET and HEAD only; an error (405, an unknown ``format``) answers the API's JSON."""

    http_method_names: Sequence[str] = ["get", "head"]

    def handle_exception(self, exc: Exception) -> Response:
        response: Response = super().handle_exception(exc)  # type: ignore[misc]
        request: Any = self.request  # type: ignore[attr-defined]
        request.accepted_renderer = JSONRenderer()
        request.accepted_media_type = JSONRenderer.media_type
        return response


class SchemaView(_Document, SpectacularAPIView):
    def _get_schema_response(self, request: Any) -> Response:
        with _generation:
            return super()._get_schema_response(request)


class SwaggerUIView(_Document, SpectacularSwaggerSplitView):
    pass
