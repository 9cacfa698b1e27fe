"""Every error seedance raises on purpose. Configuration faults are ImproperlyConfigured."""

from typing import Any


class SeedanceError(Exception):
    """Base of the application's errors; each subclass maps to one HTTP status."""

    code = "error"

    def __init__(self, message: str = "", *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class InvalidRunInput(SeedanceError):
    """The request's input breaks a rule; ``fields`` maps each field to its messages."""

    code = "invalid_input"

    def __init__(self, fields: dict[str, list[str]], message: str = "Invalid input.") -> None:
        super().__init__(message)
        self.fields = fields


class RunNotCancelable(SeedanceError):
    code = "run_not_cancelable"


class IdempotencyKeyReused(SeedanceError):
    """The same Idempotency-Key came back with a different body."""

    code = "idempotency_key_reused"


class IdempotencyKeyInFlight(SeedanceError):
    """The first request with this Idempotency-Key is still being handled."""

    code = "idempotency_key_in_flight"


class LimitExceeded(SeedanceError):
    """An admission hook refused the run; the subclass says which kind of cap."""

    code = "limit_exceeded"


class ConcurrencyLimitExceeded(LimitExceeded):
    code = "concurrency_limit_exceeded"

    def __init__(self, message: str = "", *, code: str | None = None, retry_after: int = 5):
        super().__init__(message, code=code)
        self.retry_after = retry_after


class BudgetExceeded(LimitExceeded):
    code = "budget_exceeded"


class PaymentRequired(SeedanceError):
    """The tenant's account may not create runs now (e.g. its subscription is past due).

    ``action_url`` and ``action_label`` name where the account can be fixed; the portal
    shows them to the tenant's admins with the message, so seedance never needs to know
    whose page that is.
    """

    code = "payment_required"

    def __init__(
        self,
        message: str = "",
        *,
        code: str | None = None,
        action_url: str = "",
        action_label: str = "",
    ) -> None:
        super().__init__(message, code=code)
        self.action_url = action_url
        self.action_label = action_label


class TenantChangeRefused(SeedanceError):
    """A tenant admin asked for a change the rules forbid (e.g. removing the last admin)."""

    code = "tenant_change_refused"


class InvitationUnusable(SeedanceError):
    """An invitation that grants nothing now: answered, revoked, expired, or addressed to
    someone other than the account trying to use it."""

    code = "invitation_unusable"


class AccountDeletionRefused(SeedanceError):
    """The person may not delete their account yet (e.g. a tenant would lose its only admin)."""

    code = "account_deletion_refused"


class TenantSuspended(SeedanceError):
    """Staff suspended the tenant: its keys are known but refused (403, not a 401)."""

    code = "tenant_suspended"


class CallbackRejected(SeedanceError):
    """A Runflow callback failed signature verification."""

    code = "invalid_signature"


class RunflowError(SeedanceError):
    """An answer from Runflow (or no answer). ``retryable`` drives the callers' decisions."""

    code = "runflow_error"
    retryable = False
    #: True when Runflow may or may not have acted (the create must be looked up).
    outcome_unknown = False

    def __init__(
        self,
        message: str = "",
        *,
        status_code: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
        errors: list[Any] | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, code=code)
        self.status_code = status_code
        self.request_id = request_id
        self.errors = errors or []
        self.retry_after = retry_after

    def __str__(self) -> str:
        parts = [f"{type(self).__name__}: {self.message or 'no message'}"]
        if self.status_code is not None:
            parts.append(f"status={self.status_code}")
        parts.append(f"code={self.code}")
        if self.request_id:
            parts.append(f"request_id={self.request_id}")
        return " ".join(parts)


class RunflowTransportError(RunflowError):
    """Timeout or dropped connection: Runflow may have acted; look before resending."""

    code = "transport_error"
    retryable = True
    outcome_unknown = True


class RunflowRateLimited(RunflowError):
    """429: refused before anything was created; safe to retry after a pause."""

    code = "RATE_LIMITED"
    retryable = True


class RunflowUnavailable(RunflowError):
    """5xx. 503 is a refusal (safe to retry); any other 5xx leaves a create's outcome unknown."""

    code = "UNAVAILABLE"
    retryable = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.outcome_unknown = self.status_code != 503


class RunflowRejected(RunflowError):
    """400/422: the input is refused; the run fails with Runflow's code, never retried."""

    code = "INVALID_INPUT"


class RunflowAuthError(RunflowError):
    """401/403: our platform key is wrong; runs wait queued while someone fixes it."""

    code = "UNAUTHORIZED"


class RunflowOutOfCredit(RunflowError):
    """402: our Runflow balance is empty; runs wait queued while someone tops it up."""

    code = "INSUFFICIENT_CREDIT"


class RunflowNotFound(RunflowError):
    code = "RUN_NOT_FOUND"


class RunflowConflict(RunflowError):
    """409: a duplicate create or a race; resolved by a client_ref lookup."""

    code = "CONFLICT"
    outcome_unknown = True


class OutboundRefused(SeedanceError):
    """A URL someone else chose that ``seedance.outbound`` will not fetch, or whose answer
    was a redirect (``status``); retrying the same URL gets the same refusal."""

    code = "outbound_refused"

    def __init__(self, message: str = "", *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class InvalidWebhookEndpoint(InvalidRunInput):
    """A webhook endpoint's URL or event types break a rule (answered 400 with fields)."""


class WebhookActionRefused(SeedanceError):
    """A webhook action that does not apply now: redelivering a delivery still pending, or
    sending a test event to a disabled endpoint."""

    code = "webhook_action_refused"
