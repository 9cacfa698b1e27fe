"""The audit log's one writer: every staff and tenant-admin change to keys, members, webhook
endpoints, caps and a tenant's standing records who, what and why through ``audit_record``.

Call it inside the change's transaction (it refuses to run outside one), so the entry
commits or rolls back with the change it describes.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.db import transaction

from seedance.models import ApiKey, AuditEntry, Tenant

Role = AuditEntry.ActorRole
Action = AuditEntry.Action


@dataclass(frozen=True)
class Actor:
    """Who makes a change, and in which capacity (a staff account acting as a tenant admin
    in the portal is a tenant admin there)."""

    role: str
    user: User | None = None
    label: str = ""

    @classmethod
    def staff(cls, user: AbstractBaseUser | AnonymousUser) -> "Actor":
        return cls(role=Role.STAFF, user=_saved(user))

    @classmethod
    def tenant_admin(cls, user: AbstractBaseUser | AnonymousUser) -> "Actor":
        return cls(role=Role.TENANT_ADMIN, user=_saved(user))

    @classmethod
    def member(cls, user: AbstractBaseUser | AnonymousUser) -> "Actor":
        """A person acting for themselves (accepting an invitation), not for a tenant."""
        return cls(role=Role.MEMBER, user=_saved(user))

    @classmethod
    def system(cls, label: str) -> "Actor":
        """A command or task acting on its own (``createtenant``, the demo set-up)."""
        return cls(role=Role.SYSTEM, label=label)

    @classmethod
    def api_key(cls, key: ApiKey) -> "Actor":
        """A tenant app calling the API, named by its key (never the secret part)."""
        return cls(role=Role.API_KEY, label=f"API key {key}")

    @property
    def name(self) -> str:
        if self.user is not None:
            return self.user.get_username()
        return self.label or "system"


def audit_record(
    *,
    action: str,
    actor: Actor,
    tenant: Tenant | None,
    target: str = "",
    reason: str = "",
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """One entry in the current transaction. Staff must say why (a ValueError otherwise,
    which rolls their change back with it)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_record() belongs inside the change's transaction")
    if action not in Action.values:
        raise ValueError(f"{action!r} is not an audit action")
    reason = reason.strip()
    if actor.role == Role.STAFF and not reason:
        raise ValueError("A staff action needs a reason.")
    return AuditEntry.objects.create(
        actor=actor.user,
        actor_label=actor.name[:255],
        actor_role=actor.role,
        tenant=tenant,
        tenant_label=tenant.slug if tenant is not None else "",
        action=action,
        target=target[:255],
        reason=reason,
        details=details or {},
    )


def changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """``{"field": {"before": old, "after": new}}`` for the fields that changed, as JSON."""
    return {
        name: {"before": _plain(before.get(name)), "after": _plain(value)}
        for name, value in after.items()
        if before.get(name) != value
    }


def _plain(value: Any) -> Any:
    """Decimals and other non-JSON values as their text: the log shows what was typed."""
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)


def _saved(user: AbstractBaseUser | AnonymousUser) -> User:
    if not isinstance(user, User) or user.pk is None:
        raise ValueError("An audited actor is a saved, signed-in account.")
    return user
