"""A tenant's callback signing secret, made and revoked as Runflow's ``/v1/callback-secrets``
does. One signs at a time: a new one replaces (revokes) the one before, so there is never
a question which key a callback carries; receivers keep the old one in their list for the
callbacks already sent (Runflow's advice for a rotation). Stored only encrypted
(design invariant 7) and shown once."""

import secrets
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from seedance.audit import Action, Actor, audit_record
from seedance.models import CallbackSecret, Tenant
from seedance.webhooks.encryption import secret_decrypt, secret_encrypt

SECRET_PREFIX = "whsec_"  # noqa: S105 - Runflow's prefix, not a secret
SECRET_HEX_BYTES = 32
HINT_CHARS = 12


def callback_secret_create(*, tenant: Tenant, actor: Actor) -> tuple[CallbackSecret, str]:
    """A new secret that signs from now on, and its value (never stored in the clear)."""
    value = SECRET_PREFIX + secrets.token_hex(SECRET_HEX_BYTES)
    with transaction.atomic():
        CallbackSecret.objects.for_tenant(tenant).filter(revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        secret = CallbackSecret.objects.create(
            tenant=tenant, secret_encrypted=secret_encrypt(value), hint=value[:HINT_CHARS]
        )
        _audit(Action.CALLBACK_SECRET_CREATED, secret, actor)
    return secret, value


def callback_secret_list(*, tenant: Tenant) -> list[CallbackSecret]:
    return list(CallbackSecret.objects.for_tenant(tenant))


def callback_secret_revoke(*, tenant: Tenant, secret_id: UUID, actor: Actor) -> CallbackSecret:
    """Stop signing with it; callbacks go unsigned until a new one is made."""
    with transaction.atomic():
        secret = CallbackSecret.objects.for_tenant(tenant).select_for_update().get(pk=secret_id)
        if secret.revoked_at is None:
            secret.revoked_at = timezone.now()
            secret.save(update_fields=["revoked_at"])
            _audit(Action.CALLBACK_SECRET_REVOKED, secret, actor)
    return secret


def callback_signing_secret(tenant: Tenant) -> str | None:
    """The secret a callback of ``tenant`` is signed with now, or None (sent unsigned)."""
    secret = CallbackSecret.objects.for_tenant(tenant).filter(revoked_at__isnull=True).first()
    return secret_decrypt(secret.secret_encrypted) if secret is not None else None


def _audit(action: str, secret: CallbackSecret, actor: Actor) -> None:
    audit_record(
        action=action,
        actor=actor,
        tenant=secret.tenant,
        target=f"callback secret {secret.hint}…",
        details={"secret_id": str(secret.pk)},
    )
