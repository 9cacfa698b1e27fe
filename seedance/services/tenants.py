"""Tenants and the people in them."""

from django.contrib.auth.models import User
from django.core.validators import validate_slug
from django.db import IntegrityError, transaction

from seedance.audit import Action, Actor, audit_record, changes
from seedance.exceptions import TenantChangeRefused
from seedance.models import Membership, Person, Tenant
from seedance.outputs import outputs_apply_retention


def tenant_get_or_create(*, slug: str, name: str) -> tuple[Tenant, bool]:
    validate_slug(slug)
    with transaction.atomic():
        return Tenant.objects.get_or_create(slug=slug, defaults={"name": name})


def membership_set(*, tenant: Tenant, user: User, role: str) -> Membership:
    membership, _ = Membership.objects.update_or_create(
        tenant=tenant, user=user, defaults={"role": role}
    )
    return membership


def person_for(user: User) -> Person:
    """The person's public identity, made on first use; two first runs at once both get it."""
    person = Person.objects.filter(user=user).first()
    if person is not None:
        return person
    try:
        with transaction.atomic():
            return Person.objects.create(user=user)
    except IntegrityError:
        return Person.objects.get(user=user)


def tenant_settings_update(
    *,
    tenant: Tenant,
    name: str,
    output_retention_days: int | None,
    actor: Actor,
    reason: str = "",
) -> Tenant:
    """Rename the tenant and set how long our copies of its videos are kept (None: forever)."""
    if output_retention_days is not None and output_retention_days < 1:
        raise TenantChangeRefused("Keep videos for at least one day, or leave it blank.")
    before = {"name": tenant.name, "output_retention_days": tenant.output_retention_days}
    after = {"name": name, "output_retention_days": output_retention_days}
    tenant.name = name
    tenant.output_retention_days = output_retention_days
    with transaction.atomic():
        tenant.save(update_fields=["name", "output_retention_days"])
        if before["output_retention_days"] != output_retention_days:
            outputs_apply_retention(tenant)
        if diff := changes(before, after):
            audit_record(
                action=Action.TENANT_SETTINGS_CHANGED,
                actor=actor,
                tenant=tenant,
                target=tenant.slug,
                reason=reason,
                details=diff,
            )
    return tenant
