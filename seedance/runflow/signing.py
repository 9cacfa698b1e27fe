"""Runflow's callback signature: hex HMAC-SHA256 of the raw body, keyed with the secret."""

import hashlib
import hmac
from collections.abc import Iterable

SIGNATURE_HEADER = "Runflow-Signature"
REQUEST_ID_HEADER = "Runflow-Request-Id"


def sign(body: bytes, secret: str) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(body: bytes, signature: str | None, secrets: Iterable[str]) -> bool:
    """True when any configured secret produced ``signature`` (two verify during rotation).

    Every secret is tried, match or not, so the time taken says nothing about which.
    """
    if not signature:
        return False
    candidate = signature.strip().lower().encode()
    matched = False
    for secret in secrets:
        expected = sign(body, secret).encode()
        matched |= hmac.compare_digest(expected, candidate)
    return matched
