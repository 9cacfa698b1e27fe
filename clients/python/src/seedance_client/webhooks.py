"""Checking a webhook we sent you, with ``standardwebhooks`` (the scheme our server signs with).

Verify the raw body, as received, before parsing it: re-serialized JSON no longer matches
the signature. During a secret rotation pass both secrets; either one verifies.
"""

from collections.abc import Mapping, Sequence
from typing import Any

from standardwebhooks.webhooks import EmptyWebhookSecretError, Webhook
from standardwebhooks.webhooks import WebhookVerificationError as _LibraryVerificationError

from seedance_client.errors import WebhookVerificationError


def verify_webhook(
    payload: bytes | str, headers: Mapping[str, str], secret: str | Sequence[str]
) -> dict[str, Any]:
    """The event (``{"type", "timestamp", "data"}``) once its signature checks out.

    Raises ``WebhookVerificationError`` on a missing header, a timestamp more than five
    minutes off, or no signature made with any of the secrets; ``ValueError`` on a secret
    that is not one (``whsec_`` and base64).
    """
    secrets = [secret] if isinstance(secret, str) else list(secret)
    if not secrets:
        raise ValueError("at least one secret is required")
    verifiers = [_verifier(candidate) for candidate in secrets]
    plain_headers = {str(name): str(value) for name, value in headers.items()}
    body = payload.decode() if isinstance(payload, bytes) else payload
    reason = ""
    for verifier in verifiers:
        try:
            event = verifier.verify(body, plain_headers)
        except _LibraryVerificationError as exc:
            reason = str(exc)
            continue
        except ValueError as exc:  # a malformed signature header, or a body that is no JSON
            raise WebhookVerificationError(f"Unreadable webhook: {exc}") from exc
        if not isinstance(event, dict):
            raise WebhookVerificationError("The webhook's body is not a JSON object.")
        return event
    raise WebhookVerificationError(f"Webhook verification failed: {reason}.")


def _verifier(secret: str) -> Webhook:
    """A malformed secret is the caller's configuration, not a forged webhook: ValueError."""
    try:
        return Webhook(secret)
    except (ValueError, EmptyWebhookSecretError) as exc:
        raise ValueError(f"Not a webhook secret (whsec_ and base64): {exc}") from None
