"""Reads for the API and the portal: every one takes ``tenant=`` and scopes through it."""

from uuid import UUID

from django.db.models import QuerySet

from seedance.models import Run, Tenant


def run_list(*, tenant: Tenant) -> "QuerySet[Run]":
    return Run.objects.for_tenant(tenant).prefetch_related("files")


def run_get(*, tenant: Tenant, run_id: UUID | str) -> Run:
    """Raises Run.DoesNotExist (a 404) for another tenant's run, same as for no run."""
    return Run.objects.for_tenant(tenant).prefetch_related("files").get(pk=run_id)
