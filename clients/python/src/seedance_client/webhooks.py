"""Checking a webhook we sent you, with ``standardwebhooks`` (the scheme our server signs with).

Verify the raw body, as received, before parsing it: re-serialized JSON no longer matches
the signature. During a secret rotation pass both secrets; either one verifies.
"""

from collections.abc import Mapping, Sequence
from typing import Any

from standardwebhooks.webhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError as _LibraryVerificationError

from seedance_client.errors import WebhookVerificationError


def verify_webhook(
    payload: bytes | str, headers: Mapping[str, str], secret: str | Sequence[str]
) -> dict[str, Any]:
    """The event (``{"type", "timestamp", "data"}``) once its signature checks out.

    Raises ``WebhookVerificationError`` on a missing header, a timestamp more than five
    minutes off, or no signature made with any of the secrets.
    """
    secrets = [secret] if isinstance(secret, str) else list(secret)
    if not secrets:
        raise ValueError("at least one secret is required")
    plain_headers = {str(name): str(value) for name, value in headers.items()}
    body = payload.decode() if isinstance(payload, bytes) else payload
    reason = "no secret given"
    for candidate in secrets:
        try:
            event = Webhook(candidate).verify(body, plain_headers)
        except _LibraryVerificationError as exc:
            reason = str(exc)
            continue
        except (ValueError, TypeError) as exc:
            raise WebhookVerificationError(f"Unreadable webhook: {exc}") from exc
        if not isinstance(event, dict):
            raise WebhookVerificationError("The webhook's body is not a JSON object.")
        return event
    raise WebhookVerificationError(f"Webhook verification failed: {reason}.")
