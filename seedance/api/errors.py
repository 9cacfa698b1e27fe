"""The one DRF exception handler: every error answers ``{"error": {code, message, fields}}``."""

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, RequestDataTooBig
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from seedance import exceptions as seedance_errors

logger = logging.getLogger(__name__)

_STATUS_BY_ERROR: list[tuple[type[seedance_errors.SeedanceError], int]] = [
    (seedance_errors.InvalidRunInput, status.HTTP_400_BAD_REQUEST),
    (seedance_errors.CallbackRejected, status.HTTP_401_UNAUTHORIZED),
    (seedance_errors.RunNotCancelable, status.HTTP_409_CONFLICT),
    (seedance_errors.IdempotencyKeyInFlight, status.HTTP_409_CONFLICT),
    (seedance_errors.WebhookActionRefused, status.HTTP_409_CONFLICT),
    (seedance_errors.IdempotencyKeyReused, status.HTTP_422_UNPROCESSABLE_ENTITY),
    (seedance_errors.ConcurrencyLimitExceeded, status.HTTP_429_TOO_MANY_REQUESTS),
    (seedance_errors.BudgetExceeded, status.HTTP_402_PAYMENT_REQUIRED),
    (seedance_errors.PaymentRequired, status.HTTP_402_PAYMENT_REQUIRED),
    (seedance_errors.LimitExceeded, status.HTTP_429_TOO_MANY_REQUESTS),
    (seedance_errors.TenantChangeRefused, status.HTTP_409_CONFLICT),
    (seedance_errors.InvitationUnusable, status.HTTP_409_CONFLICT),
    (seedance_errors.AccountDeletionRefused, status.HTTP_409_CONFLICT),
    (seedance_errors.TenantSuspended, status.HTTP_403_FORBIDDEN),
]


def error_body(code: str, message: str, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, seedance_errors.SeedanceError):
        return _seedance_error_response(exc)
    if isinstance(exc, RequestDataTooBig):
        return too_large_response()
    if isinstance(exc, ObjectDoesNotExist | Http404):
        return Response(error_body("not_found", "Not found."), status=status.HTTP_404_NOT_FOUND)
    if isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = error_body("invalid_input", "Invalid input.", _fields(exc.detail))
    elif isinstance(exc, exceptions.Throttled) and exc.get_codes() == exc.default_code:
        wait = response.get("Retry-After", "a few")
        message = f"Too many requests for this API key: retry in {wait} seconds."
        response.data = error_body("rate_limited", message)
    elif isinstance(exc, exceptions.APIException):
        code = exc.get_codes()
        response.data = error_body(
            code if isinstance(code, str) else exc.default_code, _message(exc.detail)
        )
    return response


def too_large_body() -> dict[str, Any]:
    """Django refuses a body over DATA_UPLOAD_MAX_MEMORY_SIZE (RequestDataTooBig): a 413."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return error_body("request_too_large", f"The request body is larger than {limit} bytes.")


def too_large_response() -> Response:
    return Response(too_large_body(), status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)


def _seedance_error_response(exc: seedance_errors.SeedanceError) -> Response:
    http_status = next(
        (code for error_class, code in _STATUS_BY_ERROR if isinstance(exc, error_class)), None
    )
    if http_status is None:
        logger.error("Unmapped application error: %r", exc)
        http_status = status.HTTP_500_INTERNAL_SERVER_ERROR
    fields = getattr(exc, "fields", None)
    response = Response(error_body(exc.code, exc.message, fields), status=http_status)
    if isinstance(exc, seedance_errors.ConcurrencyLimitExceeded):
        response["Retry-After"] = str(exc.retry_after)
    return response


def _fields(detail: Any) -> dict[str, Any]:
    if isinstance(detail, dict):
        return {key: _messages(value) for key, value in detail.items()}
    return {"non_field_errors": _messages(detail)}


def _messages(detail: Any) -> Any:
    if isinstance(detail, list):
        return [
            str(item) if not isinstance(item, dict | list) else _messages(item) for item in detail
        ]
    if isinstance(detail, dict):
        return {key: _messages(value) for key, value in detail.items()}
    return [str(detail)]


def _message(detail: Any) -> str:
    if isinstance(detail, list | tuple) and detail:
        return str(detail[0])
    if isinstance(detail, dict):
        return "; ".join(f"{key}: {value}" for key, value in detail.items())
    return str(detail)
