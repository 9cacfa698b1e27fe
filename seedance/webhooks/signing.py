"""Standard Webhooks signatures, made by the ``standardwebhooks`` library at send time.

Every attempt of a delivery carries the same ``webhook-id`` and a fresh
``webhook-timestamp`` (verifiers refuse one older than five minutes). During a secret
rotation's overlap ``webhook-signature`` holds one signature per secret, space-separated,
so a receiver still on the old secret keeps verifying.
"""

import base64
import secrets
from datetime import datetime

from standardwebhooks.webhooks import Webhook

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's prefix, not a secret
SECRET_BYTES = 32
USER_AGENT = "Seedance-Webhooks/1"


def new_secret() -> str:
    """``whsec_`` and the base64 of random bytes: the form Standard Webhooks libraries take."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def signed_headers(
    *, msg_id: str, timestamp: datetime, body: str, signing_secrets: list[str]
) -> dict[str, str]:
    """The headers of one attempt; ``timestamp`` must be timezone-aware UTC."""
    signatures = [
        Webhook(secret).sign(msg_id=msg_id, timestamp=timestamp, data=body)
        for secret in signing_secrets
    ]
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": " ".join(signatures),
    }
