"""The API's base view: a query parameter the operation does not document is a 400.

A misspelt filter (``?stauts=failed``) silently ignored would answer the wrong list.
"""

from collections.abc import Collection
from typing import Any, ClassVar

from django.http import Http404
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.views import APIView


class ApiView(APIView):
    #: No OPTIONS: DRF's answer describes the view from its docstring (ours, not the
    #: tenants'), and the OpenAPI document is where the API describes itself.
    http_method_names = [m for m in APIView.http_method_names if m != "options"]
    #: The query parameters this view reads, besides DRF's ``format``.
    query_params: ClassVar[Collection[str]] = ()

    def allowed_query_params(self, request: Request) -> Collection[str]:
        return self.query_params

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        """An unknown or blank ``?format=`` is a bad value (400), not a missing page (DRF's
        404) nor the default format (DRF reads a blank one as absent)."""
        formats = ", ".join(renderer.format for renderer in self.get_renderers())
        refused = ValidationError({"format": [f"One of: {formats}."]})
        if request.query_params.get(api_settings.URL_FORMAT_OVERRIDE) == "" and not force:
            raise refused
        try:
            return super().perform_content_negotiation(request, force)
        except Http404:
            raise refused from None

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        """After authentication and throttles: a stranger learns nothing from a 400."""
        super().initial(request, *args, **kwargs)
        allowed = {api_settings.URL_FORMAT_OVERRIDE, *self.allowed_query_params(request)}
        unknown = sorted(set(request.query_params) - allowed)
        if unknown:
            raise ValidationError({name: ["Unknown query parameter."] for name in unknown})
