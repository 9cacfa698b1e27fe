"""Provisioning retried on its own schedule, for every tenant that needs it, whether or
not it makes new runs: a failed customer or subscription call must not strand usage."""

import logging
import random
from collections.abc import Iterable
from datetime import datetime, timedelta

import stripe
from django.db.models import Q
from django.utils import timezone

from billing.conf import setting
from billing.exceptions import BillingError
from billing.models import TenantBilling, UsageRecord
from billing.provisioning import ProvisionReport, provision_tenant
from seedance.models import Tenant

logger = logging.getLogger(__name__)


def provision_soon(tenant_ids: Iterable[int] | None = None) -> int:
    """Mark tenants (all, or those given) as due for provisioning now."""
    rows = TenantBilling.objects.filter(next_provision_at__isnull=True)
    if tenant_ids is not None:
        rows = rows.filter(tenant_id__in=tenant_ids)
    return rows.update(next_provision_at=timezone.now())


def provision_due_tenants(
    client: stripe.StripeClient, *, now: datetime | None = None
) -> ProvisionReport:
    """Provision every tenant due (or holding rows); back off per tenant on failure."""
    now = now or timezone.now()
    report = ProvisionReport()
    held = UsageRecord.objects.filter(push_state=UsageRecord.PushState.HELD).values("tenant_id")
    due = TenantBilling.objects.filter(
        Q(next_provision_at__lte=now) | Q(next_provision_at__isnull=True, tenant_id__in=held)
    ).values_list("tenant_id", flat=True)
    for tenant in Tenant.objects.filter(pk__in=list(due)).order_by("pk"):
        try:
            provision_tenant(client, tenant, report, now=now)
        except (stripe.StripeError, BillingError) as exc:
            _back_off(tenant, exc, now)
    return report


def _back_off(tenant: Tenant, exc: Exception, now: datetime) -> None:
    billing = TenantBilling.objects.get(pk=tenant.pk)
    attempts = billing.provision_attempts + 1
    ceiling = min(float(setting("PROVISION_MAX_BACKOFF_SECONDS")), 15.0 * 2**attempts)
    delay = timedelta(seconds=random.uniform(ceiling / 2, ceiling))  # noqa: S311
    logger.warning("Provisioning Stripe for %s failed (%s); again in %s", tenant, exc, delay)
    TenantBilling.objects.filter(pk=tenant.pk).update(
        provision_attempts=attempts,
        next_provision_at=now + delay,
        last_provision_error=f"{type(exc).__name__}: {exc}"[:2000],
    )
