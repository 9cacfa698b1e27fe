"""API keys: issued once in clear, stored as a SHA-256 digest under a unique index."""

import hashlib
import secrets
import string
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from seedance.audit import Action, Actor, audit_record
from seedance.key_format import KEY_PREFIX, PREFIX_RANDOM_CHARS, SECRET_CHARS
from seedance.models import ApiKey, Tenant
from seedance.services.key_cache import (
    api_key_remember,
    api_keys_forget,
    cache_seconds,
    cached_api_key,
    last_use_due,
)

_ALPHABET = string.ascii_letters + string.digits
#: Don't rewrite last_used_at on every request: once a minute is precise enough to read.
LAST_USED_RESOLUTION_SECONDS = 60


@dataclass(frozen=True)
class IssuedKey:
    api_key: ApiKey
    #: The full key: shown to the tenant once, never stored.
    secret: str


def digest_of(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def api_key_issue(*, tenant: Tenant, name: str, actor: Actor, reason: str = "") -> IssuedKey:
    """Make a key like ``sdk_Ab3dE9xZ_<40 random chars>``: letters, digits and ``_`` only."""
    prefix = f"{KEY_PREFIX}_{_random(PREFIX_RANDOM_CHARS)}"
    raw_key = f"{prefix}_{_random(SECRET_CHARS)}"
    with transaction.atomic():
        api_key = ApiKey.objects.create(
            tenant=tenant, name=name, prefix=prefix, digest=digest_of(raw_key)
        )
        audit_record(
            action=Action.KEY_ISSUED,
            actor=actor,
            tenant=tenant,
            target=_label(api_key),
            reason=reason,
            details={"key_id": api_key.pk, "name": name, "prefix": prefix},
        )
    return IssuedKey(api_key=api_key, secret=raw_key)


def api_key_revoke(*, tenant: Tenant, key_id: int, actor: Actor, reason: str = "") -> ApiKey:
    """Revoke one key of the tenant's (another tenant's id is DoesNotExist); a key already
    revoked keeps its date and writes no entry."""
    with transaction.atomic():
        api_key = ApiKey.objects.for_tenant(tenant).select_for_update().get(pk=key_id)
        if api_key.revoked_at is None:
            api_key.revoked_at = timezone.now()
            api_key.save(update_fields=["revoked_at"])
            audit_record(
                action=Action.KEY_REVOKED,
                actor=actor,
                tenant=tenant,
                target=_label(api_key),
                reason=reason,
                details={"key_id": api_key.pk, "name": api_key.name, "prefix": api_key.prefix},
            )
    return api_key


def api_key_revoke_all(*, tenant: Tenant, actor: Actor, reason: str) -> int:
    """Revoke every active key of the tenant in one UPDATE; returns how many. The entry
    lists the prefixes, so the log says exactly which keys stopped."""
    now = timezone.now()
    with transaction.atomic():
        active = ApiKey.objects.for_tenant(tenant).filter(revoked_at__isnull=True)
        keys = list(active.select_for_update().order_by("pk").values_list("pk", "prefix"))
        revoked = ApiKey.objects.filter(pk__in=[pk for pk, _ in keys]).update(revoked_at=now)
        # One UPDATE sends no post_save: forget the keys here.
        api_keys_forget(
            ApiKey.objects.filter(pk__in=[pk for pk, _ in keys]).values_list("digest", flat=True)
        )
        prefixes = [prefix for _, prefix in keys]
        audit_record(
            action=Action.KEYS_REVOKED_ALL,
            actor=actor,
            tenant=tenant,
            target=f"{revoked} key{'s' if revoked != 1 else ''}",
            reason=reason,
            details={"revoked": revoked, "prefixes": prefixes},
        )
    return revoked


def api_key_authenticate(raw_key: str) -> ApiKey | None:
    """The active key matching ``raw_key``, or None. One indexed lookup per request."""
    if not raw_key or len(raw_key) > 128:
        return None
    api_key = (
        ApiKey.objects.select_related("tenant")
        .filter(digest=digest_of(raw_key), revoked_at__isnull=True)
        .first()
    )
    if api_key is None:
        return None
    _last_use_record(api_key)
    return api_key


def api_key_authenticate_cached(raw_key: str) -> ApiKey | None:
    """``api_key_authenticate`` through the shared cache (seedance.services.key_cache):
    a known key costs no query; a cache outage reads the database."""
    if cache_seconds() <= 0 or not raw_key or len(raw_key) > 128:
        return api_key_authenticate(raw_key)
    entry = cached_api_key(digest_of(raw_key))
    if entry is not None and entry.api_key is not None:
        if not entry.use_recorded and last_use_due(
            entry.api_key.digest, LAST_USED_RESOLUTION_SECONDS
        ):
            _last_use_record(entry.api_key)
        return entry.api_key
    api_key = api_key_authenticate(raw_key)
    if api_key is not None and entry is not None and not entry.forgotten:
        api_key_remember(api_key)
    return api_key


def _last_use_record(api_key: ApiKey) -> bool:
    """Write ``last_used_at`` when it is a minute old or unset; True when written."""
    now = timezone.now()
    stale = now - timedelta(seconds=LAST_USED_RESOLUTION_SECONDS)
    if api_key.last_used_at is not None and api_key.last_used_at >= stale:
        return False
    ApiKey.objects.filter(pk=api_key.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=stale)
    ).update(last_used_at=now)
    api_key.last_used_at = now
    return True


def _label(api_key: ApiKey) -> str:
    return f"key {api_key.pk} ({api_key.prefix}…, {api_key.name})"


def _random(length: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))
