"""The OpenAPI document: every operation lists the errors it can answer, in the one shape.

Descriptions come only from ``extend_schema`` and ``help_text``, never from docstrings:
docstrings explain the code to us, the schema explains the API to tenants.
"""

from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers


class ErrorDetailSerializer(serializers.Serializer[Any]):
    code = serializers.CharField(help_text="Stable and machine-readable, e.g. `invalid_input`.")
    message = serializers.CharField(help_text="For people; may change.")

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        # ``fields`` is a Serializer attribute, so it can't be declared as a class attribute.
        return {
            **super().get_fields(),
            "fields": serializers.DictField(
                child=serializers.ListField(child=serializers.CharField()),
                help_text="Messages per input field, header or query parameter; empty otherwise.",
            ),
        }


class ErrorSerializer(serializers.Serializer[Any]):
    openapi_description = "Every error answers in this shape."

    error = ErrorDetailSerializer()


def error_response(description: str) -> OpenApiResponse:
    """A documented error status of one operation, answered in the API's error shape."""
    return OpenApiResponse(ErrorSerializer, description=description)


#: What any authenticated operation may answer, whatever it does.
COMMON_ERRORS: dict[int, str] = {
    400: "Bad input: a query parameter the operation does not document, or a bad value; "
    "`fields` names each.",
    401: "No API key, or an unknown or revoked one (`WWW-Authenticate: Bearer`).",
    403: "The tenant is suspended by the platform (`tenant_suspended`).",
    406: "The `Accept` header asks for a format this operation does not answer in.",
    429: "Too many requests: over the key's rate (`rate_limited`), or too many requests "
    "with a bad key from this address (`authentication_rate_limited`). Retry after "
    "`Retry-After` seconds.",
}
#: An operation on one object named in its path: a missing or other tenant's object.
NOT_FOUND = (404, "No such object for this tenant.")
#: An operation that reads a JSON body.
BODY_ERRORS: dict[int, str] = {
    400: "Bad input: a malformed or invalid body, or a query parameter the operation does "
    "not document; `fields` names each bad field.",
    413: "The body is larger than the server accepts (`request_too_large`).",
    415: "The body is not `application/json`.",
}


class ApiAutoSchema(AutoSchema):
    """drf-spectacular's schema, with the errors each kind of operation can answer."""

    def get_description(self) -> str:  # type: ignore[override]
        return ""

    def get_override_parameters(self) -> list[Any]:
        return [
            *super().get_override_parameters(),
            OpenApiParameter(
                "Retry-After",
                OpenApiTypes.INT,
                OpenApiParameter.HEADER,
                required=True,
                response=[429],
                description="Seconds to wait before trying again.",
            ),
            OpenApiParameter(
                "WWW-Authenticate",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                required=True,
                response=[401],
                description="`Bearer`: the scheme the API takes.",
            ),
        ]

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        for code, description in self._error_statuses().items():
            if str(code) not in responses:
                responses[str(code)] = self._get_response_for_code(
                    error_response(description), str(code), ["application/json"], direction
                )
        return dict(sorted(responses.items()))

    def _error_statuses(self) -> dict[int, str]:
        errors = dict(COMMON_ERRORS)
        if self._reads_body():
            errors.update(BODY_ERRORS)
        if "{" in self.path:
            errors[NOT_FOUND[0]] = NOT_FOUND[1]
        return errors

    def _reads_body(self) -> bool:
        return self.method in ("POST", "PUT", "PATCH") and self.get_request_serializer() is not None

    def _map_basic_serializer(self, serializer: Any, direction: Any) -> dict[str, Any]:
        """A component's description is its ``openapi_description``, never its docstring.

        A request body takes only the fields it documents: the API refuses any other.
        """
        schema: dict[str, Any] = super()._map_basic_serializer(serializer, direction)
        if direction == "request":
            schema["additionalProperties"] = False
        schema.pop("description", None)
        description = getattr(serializer, "openapi_description", "")
        if description:
            schema["description"] = description
        return schema
