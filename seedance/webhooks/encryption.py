"""Secrets we sign with on a tenant's behalf, stored encrypted (design invariant 7).

``WEBHOOK_SECRET_KEYS`` is a list of Fernet keys, not ``SECRET_KEY``: the first encrypts,
every one decrypts: a new key goes first, and an old one stays while any secret it
encrypted is still stored (rotating an endpoint's secret stores it under the first key).
"""

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.core.exceptions import ImproperlyConfigured

from seedance.conf import setting


def _fernets() -> list[Fernet]:
    keys = [str(key) for key in setting("WEBHOOK_SECRET_KEYS") if key]
    if not keys:
        raise ImproperlyConfigured("WEBHOOK_SECRET_KEYS is empty: webhook secrets cannot be kept.")
    try:
        return [Fernet(key.encode()) for key in keys]
    except ValueError as exc:
        raise ImproperlyConfigured(
            f"WEBHOOK_SECRET_KEYS holds a key Fernet refuses: {exc}"
        ) from None


def _fernet() -> MultiFernet:
    return MultiFernet(_fernets())


def secret_encrypt(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def secret_decrypt(token: str) -> str:
    """The secret ``token`` protects; a token no configured key opens is a configuration
    fault (a key was dropped too soon), never shown to a tenant."""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise _undecryptable() from None


def secret_reencrypt(token: str) -> str | None:
    """``token`` encrypted under the first key, or None when it already is: what lets an
    old key be dropped once every stored secret has been through here."""
    fernets = _fernets()
    try:
        fernets[0].decrypt(token.encode())
        return None
    except InvalidToken:
        pass
    try:
        return MultiFernet(fernets).rotate(token.encode()).decode()
    except InvalidToken:
        raise _undecryptable() from None


def _undecryptable() -> ImproperlyConfigured:
    return ImproperlyConfigured(
        "A webhook secret cannot be decrypted with any key in WEBHOOK_SECRET_KEYS."
    )


def keys_problem() -> str:
    """Why the configured keys cannot work, or "" when they can (for the system check)."""
    try:
        _fernet()
    except ImproperlyConfigured as exc:
        return str(exc)
    return ""
