"""Paid, not billed: Runflow finished a run after we had failed it ourselves.

Only the hard limit and a refused lookup fail a run Runflow may still make. For a window
after either, Runflow is asked again (the reconciler, or the refresh a callback wakes); a
success is recorded once, for a person to resolve. The run stays failed (a terminal run
never changes) and nothing is billed: the tenant was told it failed and got no video.
"""

import logging
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.utils import timezone

from seedance.audit import Action, Actor, audit_record
from seedance.exceptions import RunflowNotFound
from seedance.models import Run, RunDiscrepancy
from seedance.runflow.client import RunflowClient
from seedance.runflow.payloads import ProviderRun
from seedance.services.submission import run_find_upstream
from seedance.states import Attention, RunStatus

logger = logging.getLogger(__name__)

PAID_NOT_BILLED = RunDiscrepancy.Kind.PAID_NOT_BILLED


def run_check_late_success(
    run: Run, runflow: RunflowClient, *, now: datetime
) -> RunDiscrepancy | None:
    """Ask Runflow what became of a run we failed ourselves; record a success once.

    Runflow ending it otherwise (failed, canceled, or no such run) owes nobody anything:
    the flag is cleared and the watch ends.
    """
    Run.objects.filter(pk=run.pk).update(last_polled_at=now)
    provider_run = _runflow_run(run, runflow)
    if provider_run is None or not provider_run.is_terminal:
        return None
    if provider_run.status != RunStatus.SUCCEEDED:
        Run.objects.filter(pk=run.pk, status=RunStatus.FAILED).update(
            attention=Attention.NONE, attention_since=None
        )
        return None
    return paid_not_billed_record(run, provider_run)


def paid_not_billed_record(run: Run, provider_run: ProviderRun) -> RunDiscrepancy:
    discrepancy, created = RunDiscrepancy.objects.get_or_create(
        run=run,
        kind=PAID_NOT_BILLED,
        defaults={
            "provider_run_id": provider_run.id,
            "provider_status": provider_run.raw_status,
            "cost": provider_run.cost,
            "completed_at": provider_run.completed_at,
        },
    )
    if created:
        logger.error(
            "Runflow run %s succeeded after we failed run %s (%s): paid, not billed",
            provider_run.id,
            run.pk,
            run.failure_code,
        )
    return discrepancy


def discrepancy_resolve(
    discrepancy_id: int, *, user: AbstractBaseUser | AnonymousUser, note: str
) -> bool:
    """A person settled it (refund asked of Runflow, tenant credited, ...); audited.
    False when it was already resolved."""
    actor = Actor.staff(user)
    with transaction.atomic():
        discrepancy = (
            RunDiscrepancy.objects.select_for_update()
            .select_related("run__tenant")
            .filter(pk=discrepancy_id, resolved_at__isnull=True)
            .first()
        )
        if discrepancy is None:
            return False
        discrepancy.resolved_at = timezone.now()
        discrepancy.resolved_by = actor.user
        discrepancy.note = note.strip()
        discrepancy.save(update_fields=["resolved_at", "resolved_by", "note"])
        audit_record(
            action=Action.DISCREPANCY_RESOLVED,
            actor=actor,
            tenant=discrepancy.run.tenant,
            target=f"run {discrepancy.run_id}",
            reason=note,
            details={
                "kind": discrepancy.kind,
                "provider_run_id": discrepancy.provider_run_id,
                "cost": str(discrepancy.cost) if discrepancy.cost is not None else None,
            },
        )
    return True


def _runflow_run(run: Run, runflow: RunflowClient) -> ProviderRun | None:
    if run.provider_run_id is None:
        return run_find_upstream(run, runflow)
    try:
        provider_run = runflow.get_run(run.provider_run_id)
    except RunflowNotFound:
        return None
    return provider_run if provider_run.id == run.provider_run_id else None
