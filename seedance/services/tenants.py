"""Tenants and the people in them."""

from django.contrib.auth.models import User
from django.core.validators import validate_slug
from django.db import transaction

from seedance.models import Membership, Tenant


def tenant_get_or_create(*, slug: str, name: str) -> tuple[Tenant, bool]:
    validate_slug(slug)
    with transaction.atomic():
        return Tenant.objects.get_or_create(slug=slug, defaults={"name": name})


def membership_set(*, tenant: Tenant, user: User, role: str) -> Membership:
    membership, _ = Membership.objects.update_or_create(
        tenant=tenant, user=user, defaults={"role": role}
    )
    return membership
