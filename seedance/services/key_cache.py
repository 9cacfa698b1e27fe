"""API keys in the shared cache, so a request with a known key skips the key's SELECT.

Entries are keyed by the key's SHA-256 digest (never the key) and hold the active ApiKey
with its tenant. Whatever may change what a key grants (its revocation or deletion, any
save of its tenant: a suspension, a resume) forgets the tenant's entries at once and again
once committed, by writing a marker over them: while the marker lives the key is read from
the database and not cached again, so a request that read the row just before the change
cannot put the old state back. A revoked key is therefore refused on the very next
request, in every process sharing the cache.
"""

import logging
from collections.abc import Iterable
from typing import Any

from django.core.cache import cache
from django.db import transaction

from seedance.conf import setting
from seedance.models import ApiKey, Tenant

logger = logging.getLogger(__name__)
FORGOTTEN = "forgotten"


class Entry:
    """What the cache said: an active key, nothing, or that the key was just changed; and
    whether its use was recorded lately (``last_use_due``)."""

    def __init__(self, value: Any, *, use_recorded: bool = False) -> None:
        self.api_key = value if isinstance(value, ApiKey) else None
        self.forgotten = value == FORGOTTEN
        self.use_recorded = use_recorded


def cache_seconds() -> int:
    """``API_KEY_CACHE_SECONDS``; 0 turns the cache off."""
    return int(setting("API_KEY_CACHE_SECONDS"))


def cache_key_of(digest: str) -> str:
    return f"seedance:apikey:{digest}"


def cached_api_key(digest: str) -> Entry | None:
    """The cache's entry for this digest, read in one round trip with its use marker;
    None when the cache cannot be read."""
    key, used = cache_key_of(digest), _used_key_of(digest)
    try:
        found = cache.get_many([key, used])
        return Entry(found.get(key), use_recorded=used in found)
    except Exception:
        logger.warning("API key cache unreadable; reading the key from the database")
        return None


def api_key_remember(api_key: ApiKey) -> None:
    """``add`` after a miss, never ``set``: a marker written meanwhile wins."""
    try:
        cache.add(cache_key_of(api_key.digest), api_key, cache_seconds())
    except Exception:
        logger.warning("API key cache unwritable; the next request reads the database too")


def last_use_due(digest: str, seconds: int) -> bool:
    """Whether this request records the key's use: once per ``seconds`` a key, kept apart
    from the key's entry, so no request rewrites an entry a revocation just marked."""
    try:
        return bool(cache.add(_used_key_of(digest), 1, seconds))
    except Exception:
        return True


def _used_key_of(digest: str) -> str:
    return f"seedance:apikey-used:{digest}"


def api_keys_forget(digests: Iterable[str]) -> None:
    """Mark these keys' entries forgotten now and once the caller's transaction commits."""
    keys = [cache_key_of(digest) for digest in digests]
    if keys:
        _mark_forgotten(keys)
        transaction.on_commit(lambda: _mark_forgotten(keys), robust=True)


def tenant_keys_forget(tenant: Tenant) -> None:
    api_keys_forget(ApiKey.objects.filter(tenant=tenant).values_list("digest", flat=True))


def _mark_forgotten(keys: list[str]) -> None:
    cache.set_many(dict.fromkeys(keys, FORGOTTEN), max(cache_seconds(), 1))


def forget_changed_key(sender: Any, instance: ApiKey, **kwargs: Any) -> None:
    """post_save and post_delete of an ApiKey (a revoke saves ``revoked_at``); a key just
    issued has no entry to forget."""
    if not kwargs.get("created"):
        api_keys_forget([instance.digest])


def forget_changed_tenant(sender: Any, instance: Tenant, **kwargs: Any) -> None:
    """post_save of a Tenant: a suspension, a resume, or any field a cached key carries."""
    if not kwargs.get("created"):
        tenant_keys_forget(instance)
