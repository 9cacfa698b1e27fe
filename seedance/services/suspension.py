"""Staff suspend a tenant and resume it.

While suspended: its API keys answer 403 ``tenant_suspended`` (seedance.api.authentication),
its portal pages show why (seedance.portal.access), its output links answer as for a file
no longer available (seedance.outputs.file_for_token), and no run of it is sent to Runflow
(seedance.transitions.run_claim). Runs already sent finish, are copied and billed;
runs never sent are canceled here. Tenant webhooks (not built yet) must check
``Tenant.is_suspended`` before each delivery attempt, as the output links do.
"""

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from seedance.audit import Action, Actor, audit_record
from seedance.exceptions import TenantChangeRefused
from seedance.models import Run, Tenant
from seedance.states import RunStatus
from seedance.transitions import run_cancel_for_suspension

#: Never claimed, never sent: canceling one discards nothing Runflow made. A run claimed
#: and released earlier is left to the reconciler, which looks it up by client_ref first.
NEVER_SENT = Q(
    status=RunStatus.QUEUED,
    claimed_at__isnull=True,
    provider_run_id__isnull=True,
    submit_attempts=0,
)


@dataclass(frozen=True)
class Suspension:
    tenant: Tenant
    #: Runs canceled because they had not been sent yet.
    canceled_runs: int


def tenant_suspend(*, tenant: Tenant, actor: Actor, reason: str, notice: str = "") -> Suspension:
    """Suspend ``tenant``; ``reason`` is staff's (audit log only), ``notice`` is shown to
    its members. Refused when already suspended."""
    with transaction.atomic():
        locked = _locked(tenant)
        if locked.is_suspended:
            raise TenantChangeRefused(f"{locked.slug} is already suspended.")
        # Dated after the lock: every run claimed before it has an earlier claimed_at.
        locked.suspended_at = timezone.now()
        locked.suspension_notice = notice.strip()
        locked.save(update_fields=["suspended_at", "suspension_notice"])
        waiting = Run.objects.for_tenant(locked).filter(NEVER_SENT).values_list("pk", flat=True)
        canceled = sum(
            run_cancel_for_suspension(run_id, only_if=NEVER_SENT) is not None
            for run_id in list(waiting)
        )
        audit_record(
            action=Action.TENANT_SUSPENDED,
            actor=actor,
            tenant=locked,
            target=locked.slug,
            reason=reason,
            details={"notice": locked.suspension_notice, "canceled_runs": canceled},
        )
    _refresh(tenant, locked)
    return Suspension(tenant=tenant, canceled_runs=canceled)


def tenant_resume(*, tenant: Tenant, actor: Actor, reason: str) -> Tenant:
    """Lift the suspension: keys (those not revoked), the portal and links work again.
    Runs canceled by the suspension stay canceled. Refused when not suspended."""
    with transaction.atomic():
        locked = _locked(tenant)
        if not locked.is_suspended:
            raise TenantChangeRefused(f"{locked.slug} is not suspended.")
        suspended_at = locked.suspended_at
        locked.suspended_at = None
        locked.suspension_notice = ""
        locked.save(update_fields=["suspended_at", "suspension_notice"])
        audit_record(
            action=Action.TENANT_RESUMED,
            actor=actor,
            tenant=locked,
            target=locked.slug,
            reason=reason,
            details={"suspended_at": suspended_at.isoformat() if suspended_at else None},
        )
    _refresh(tenant, locked)
    return tenant


def _locked(tenant: Tenant) -> Tenant:
    """The tenant's row under FOR UPDATE: a claim in progress finishes first, and later
    claims wait for this transaction and then see its outcome."""
    return Tenant.objects.select_for_update().get(pk=tenant.pk)


def _refresh(tenant: Tenant, locked: Tenant) -> None:
    tenant.suspended_at = locked.suspended_at
    tenant.suspension_notice = locked.suspension_notice
