"""Every failure the client raises: one base class, one subclass per class of answer.

The API answers every error as ``{"error": {"code", "message", "fields"}}``; those three,
the HTTP status and the ``X-Request-ID`` (what support asks for) are on every instance.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

    from seedance_client.models import Run


class SeedanceError(Exception):
    """Base of every error this client raises; ``status`` is None when no answer came."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        fields: dict[str, Any] | None = None,
        request_id: str | None = None,
        response: httpx.Response | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.fields: dict[str, Any] = fields or {}
        self.request_id = request_id
        self.response = response

    def __str__(self) -> str:
        parts = [f"{self.status}" if self.status is not None else None, self.code, self.message]
        text = " ".join(part for part in parts if part)
        if self.fields:
            text += f" fields={self.fields}"
        if self.request_id:
            text += f" (request id {self.request_id})"
        return text


class ValidationError(SeedanceError):
    """400, 413, 415 or 422: the request itself is wrong; ``fields`` names what."""


class AuthenticationError(SeedanceError):
    """401: no key, an unknown key or a revoked one."""


class PaymentRequiredError(SeedanceError):
    """402: over a spend cap, no card on file, or a past-due subscription."""


class PermissionDeniedError(SeedanceError):
    """403: the key is valid but may not do this (e.g. ``tenant_suspended``)."""


class NotFoundError(SeedanceError):
    """404: no such object, or another tenant's (the API does not tell them apart)."""


class ConflictError(SeedanceError):
    """409: the object's state refuses the action (e.g. ``run_not_cancelable``)."""


class RateLimitedError(SeedanceError):
    """429: ``retry_after`` is the server's ``Retry-After`` in seconds, when it sent one."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ServerError(SeedanceError):
    """5xx: our fault, or a proxy's; retried by the client before it is raised."""


class SeedanceConnectionError(SeedanceError):
    """No answer: the connection failed or broke. The request may or may not have acted."""


class SeedanceTimeoutError(SeedanceConnectionError):
    """No answer within the client's timeout."""


class WaitTimeoutError(SeedanceError):
    """``wait()`` ran out of time before the run ended; ``run`` is its last state seen."""

    def __init__(self, message: str, *, run: Run) -> None:
        super().__init__(message)
        self.run = run


class WebhookVerificationError(SeedanceError):
    """A webhook's signature, timestamp or headers do not check out: do not trust its body."""


_BY_STATUS: dict[int, type[SeedanceError]] = {
    400: ValidationError,
    401: AuthenticationError,
    402: PaymentRequiredError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    413: ValidationError,
    415: ValidationError,
    422: ValidationError,
    429: RateLimitedError,
}


def error_class_for(status: int) -> type[SeedanceError]:
    """The class for an error status; an unlisted 4xx stays the base class."""
    if status >= 500:
        return ServerError
    return _BY_STATUS.get(status, SeedanceError)
