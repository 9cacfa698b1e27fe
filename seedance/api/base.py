"""The API's base view: a query parameter the operation does not document is a 400.

A misspelt filter (``?stauts=failed``) silently ignored would answer the wrong list.
"""

from collections.abc import Collection
from typing import Any, ClassVar

from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.views import APIView


class ApiView(APIView):
    #: The query parameters this view reads, besides DRF's ``format``.
    query_params: ClassVar[Collection[str]] = ()

    def allowed_query_params(self, request: Request) -> Collection[str]:
        return self.query_params

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        """After authentication and throttles: a stranger learns nothing from a 400."""
        super().initial(request, *args, **kwargs)
        allowed = {api_settings.URL_FORMAT_OVERRIDE, *self.allowed_query_params(request)}
        unknown = sorted(set(request.query_params) - allowed)
        if unknown:
            raise ValidationError({name: ["Unknown query parameter."] for name in unknown})
