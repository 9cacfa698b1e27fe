"""Reads for the API and the portal: every read of tenant data takes ``tenant=`` and scopes
through it, and every run comes with the status the tenant is shown
(``seedance.public_status``)."""

from uuid import UUID

from allauth.account.models import EmailAddress
from django.contrib.auth.models import User
from django.db.models import QuerySet

from seedance.models import Membership, Run, Tenant
from seedance.public_status import with_public_status


def run_list(*, tenant: Tenant) -> "QuerySet[Run]":
    return with_public_status(Run.objects.for_tenant(tenant)).prefetch_related("files")


def run_get(*, tenant: Tenant, run_id: UUID | str) -> Run:
    """Raises Run.DoesNotExist (a 404) for another tenant's run, same as for no run."""
    return run_list(tenant=tenant).get(pk=run_id)


def verified_emails_of(*, user: User) -> set[str]:
    """The addresses the person proved they own (allauth's verified addresses), lower-cased."""
    return {
        email.lower()
        for email in EmailAddress.objects.filter(user=user, verified=True).values_list(
            "email", flat=True
        )
    }


def claimed_emails_of(*, user: User) -> set[str]:
    """Every address the person uses, proved or not, lower-cased: what a refusal may name."""
    claimed = {
        email.lower()
        for email in EmailAddress.objects.filter(user=user).values_list("email", flat=True)
    }
    if user.email:
        claimed.add(user.email.lower())
    return claimed


def tenant_admin_emails(*, tenant: Tenant) -> list[str]:
    """Where news for the tenant's admins is mailed: each admin's address, once, sorted."""
    admins = Membership.objects.for_tenant(tenant).filter(role=Membership.Role.ADMIN)
    return sorted({email for email in admins.values_list("user__email", flat=True) if email})
