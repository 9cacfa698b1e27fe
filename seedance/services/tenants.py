"""Tenants and the people in them."""

from dataclasses import dataclass

from django.contrib.auth.models import User
from django.core.validators import validate_slug
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from seedance.audit import Action, Actor, audit_record, changes
from seedance.exceptions import TenantChangeRefused
from seedance.models import Membership, Person, Tenant
from seedance.outputs import outputs_apply_retention
from seedance.services.keys import IssuedKey, api_key_issue
from seedance.signals import tenant_created

FIRST_KEY_NAME = "First key"
_SLUG_MAX = Tenant._meta.get_field("slug").max_length or 63
_NAME_MAX = Tenant._meta.get_field("name").max_length or 200
#: Slug attempts before giving up: "acme", "acme-2", ... "acme-50".
_SLUG_TRIES = 50


@dataclass(frozen=True)
class CreatedTenant:
    tenant: Tenant
    membership: Membership
    #: The tenant's first API key; its secret is shown to the founder once.
    key: IssuedKey


def tenant_create(*, founder: User, name: str) -> CreatedTenant:
    """A person's own tenant: the tenant, its founder as admin and a first API key, all or
    nothing. The slug comes from the name and is made unique with a number."""
    name = " ".join(name.split())
    if not name:
        raise TenantChangeRefused("Give your tenant a name.")
    if len(name) > _NAME_MAX:
        raise TenantChangeRefused(f"Keep the name to {_NAME_MAX} characters.")
    with transaction.atomic():
        tenant = _tenant_with_free_slug(name)
        membership = Membership.objects.create(
            tenant=tenant,
            user=founder,
            role=Membership.Role.ADMIN,
            joined_via=Membership.JoinedVia.FOUNDER,
            last_used_at=timezone.now(),
        )
        key = api_key_issue(tenant=tenant, name=FIRST_KEY_NAME, actor=Actor.tenant_admin(founder))
        tenant_created.send(sender=Tenant, tenant=tenant, founder=founder)
    return CreatedTenant(tenant=tenant, membership=membership, key=key)


def tenant_get_or_create(*, slug: str, name: str) -> tuple[Tenant, bool]:
    validate_slug(slug)
    with transaction.atomic():
        return Tenant.objects.get_or_create(slug=slug, defaults={"name": name})


def membership_set(
    *,
    tenant: Tenant,
    user: User,
    role: str,
    joined_via: str = Membership.JoinedVia.STAFF,
) -> Membership:
    """Staff's way in (commands, the demo): set the person's role; a new membership records
    ``joined_via``, an existing one keeps how it came to be."""
    membership, _ = Membership.objects.update_or_create(
        tenant=tenant,
        user=user,
        defaults={"role": role},
        create_defaults={"role": role, "joined_via": joined_via},
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


def _tenant_with_free_slug(name: str) -> Tenant:
    """Insert under the first free slug; the unique index, not a look-up, settles a race."""
    base = slugify(name)[: _SLUG_MAX - 4].strip("-") or "tenant"
    for attempt in range(1, _SLUG_TRIES + 1):
        slug = base if attempt == 1 else f"{base}-{attempt}"
        if Tenant.objects.filter(slug=slug).exists():
            continue
        try:
            with transaction.atomic():
                return Tenant.objects.create(slug=slug, name=name)
        except IntegrityError:
            continue
    raise TenantChangeRefused("That name is taken many times over: choose another.")
