"""Our errors in Runflow's envelope: ``{code, message, errors, details}``, flat, as its SDK
reads them. The answer is first made by ``/api/v1``'s handler (same statuses, same
``Retry-After``), then renamed: Runflow's code in ``code``, ours in ``details.code``."""

from typing import Any

from rest_framework.response import Response

from seedance.api.errors import api_exception_handler

#: Runflow's code for each HTTP status we answer with.
CODE_BY_STATUS = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    402: "INSUFFICIENT_CREDIT",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    406: "NOT_ACCEPTABLE",
    409: "CONFLICT",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    422: "VALIDATION_ERROR",
    429: "RATE_LIMITED",
    500: "INTERNAL_ERROR",
    503: "SERVICE_UNAVAILABLE",
}
#: Ours whose Runflow code (and status) differ from the status's: Runflow answers bad
#: input with 422 and per-field ``errors``.
RENAMED = {
    "invalid_input": (422, "VALIDATION_ERROR"),
    "idempotency_key_reused": (422, "IDEMPOTENCY_KEY_REUSED"),
}


def runflow_error_body(
    code: str, message: str, *, errors: list[dict[str, str]] | None = None, ours: str = ""
) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message}
    if errors:
        body["errors"] = errors
    if ours:
        body["details"] = {"code": ours}
    return body


def runflow_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    response = api_exception_handler(exc, context)
    if response is None:
        return None
    error = (response.data or {}).get("error", {})
    ours = str(error.get("code", ""))
    status, code = RENAMED.get(ours, (response.status_code, None))
    if code is None:
        code = CODE_BY_STATUS.get(status, "ERROR")
        if status == 404 and (not_found := context["view"].not_found_code):
            code = not_found
    response.status_code = status
    response.data = runflow_error_body(
        code, str(error.get("message", "")), errors=_field_errors(error.get("fields")), ours=ours
    )
    return response


def _field_errors(fields: Any) -> list[dict[str, str]]:
    """``{"input.prompt": ["Required."]}`` as Runflow's ``[{field, message}]``."""
    if not isinstance(fields, dict):
        return []
    return [
        {"field": name, "message": str(message)}
        for name, messages in fields.items()
        for message in (messages if isinstance(messages, list) else [messages])
    ]
