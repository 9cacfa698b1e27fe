"""Sending a run to Runflow exactly once.

A submit first claims the run with a conditional UPDATE, so running it twice, or twice at
once, sends one create. When Runflow's answer is lost the run stays claimed and is looked
up by ``client_ref``; only the reconciler may resubmit, after the submit's worst case, by
taking over that exact claim (compare-and-swap), so two reconcilers never both resend.

A claim first reads the tenant's suspension under a lock on the tenant's row, the lock a
suspension takes too: a run is claimed either before a suspension commits (it is sent,
finishes and is billed) or never (it is canceled here, once nothing can have been sent).
"""

import logging
from contextlib import ExitStack
from datetime import datetime, timedelta
from uuid import UUID

from django.db import IntegrityError, transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from seedance.conf import setting, submit_worst_case_seconds
from seedance.exceptions import RunflowError, RunflowRejected
from seedance.models import Run, Tenant
from seedance.runflow.client import RunflowClient, runflow_client
from seedance.runflow.payloads import ProviderRun
from seedance.states import RunStatus
from seedance.transitions import Outcome, run_apply_provider, run_finish

logger = logging.getLogger(__name__)


def callback_url_for(run_id: UUID | str) -> str:
    path = reverse("seedance:runflow-callback", kwargs={"run_id": run_id})
    return f"{str(setting('PUBLIC_BASE_URL')).rstrip('/')}{path}"


TENANT_SUSPENDED = "tenant_suspended"


def run_claim(
    run_id: UUID | str, *, stale_claim: datetime | None = None, upstream_checked: bool = False
) -> Run | None:
    """Take the run for submission; None if it is not ours to take.

    Without ``stale_claim`` only an unclaimed run is taken; with it, only a run still
    holding exactly that claim (the reconciler taking over a submit that went silent).
    A suspended tenant's run is never taken: it is canceled if it was never sent, or if
    the caller looked it up by client_ref and Runflow has none (``upstream_checked``).
    """
    waiting = Q(status=RunStatus.QUEUED, provider_run_id__isnull=True)
    waiting &= Q(claimed_at__isnull=True) if stale_claim is None else Q(claimed_at=stale_claim)
    with transaction.atomic():
        if _tenant_suspended_locked(run_id):
            never_sent = Q() if upstream_checked else Q(submit_attempts=0)
            run_cancel_for_suspension(run_id, only_if=waiting & never_sent)
            return None
        claimed = Run.objects.filter(waiting, pk=run_id).update(
            claimed_at=timezone.now(), submit_attempts=F("submit_attempts") + 1
        )
    return Run.objects.get(pk=run_id) if claimed else None


def run_cancel_for_suspension(run_id: UUID | str, *, only_if: Q) -> Run | None:
    """The one terminal transition, for a run its tenant's suspension stopped before it was
    sent: canceled, its reservation released, never billed."""
    return run_finish(
        run_id,
        Outcome(
            status=RunStatus.CANCELED,
            failure_code=TENANT_SUSPENDED,
            failure_message="Canceled before submission: the tenant is suspended.",
        ),
        only_if=only_if,
    )


def _tenant_suspended_locked(run_id: UUID | str) -> bool:
    """The run's tenant's suspension, read under the tenant row's lock (FOR NO KEY UPDATE:
    it waits for a suspension being written; a run's insert never waits for it)."""
    suspended_at = (
        Tenant.objects.select_for_update(no_key=True, of=("self",))
        .filter(runs__pk=run_id)
        .values_list("suspended_at", flat=True)
        .first()
    )
    return suspended_at is not None


def run_release_claim(run: Run) -> None:
    """Give the run back to the reconciler: Runflow surely has no run for it."""
    Run.objects.filter(pk=run.pk, provider_run_id__isnull=True, claimed_at=run.claimed_at).update(
        claimed_at=None
    )


def run_submit(
    run_id: UUID | str,
    *,
    client: RunflowClient | None = None,
    stale_claim: datetime | None = None,
    upstream_checked: bool = False,
) -> None:
    run = run_claim(run_id, stale_claim=stale_claim, upstream_checked=upstream_checked)
    if run is None:
        return
    with ExitStack() as owned:
        runflow = client or owned.enter_context(runflow_client())
        try:
            provider_run = runflow.create_run(
                run_input=run.input, client_ref=str(run.pk), callback_url=callback_url_for(run.pk)
            )
        except RunflowError as exc:
            _submit_failed(run, exc, runflow)
            return
    run_attach_provider(run.pk, provider_run)


def run_attach_provider(run_id: UUID | str, provider_run: ProviderRun) -> bool:
    """Record Runflow's id for our run, then apply whatever state it reported.

    False when the run already carries another provider id (or the id belongs to another
    run): that provider run is not ours to apply.
    """
    try:
        with transaction.atomic():
            Run.objects.filter(
                pk=run_id, provider_run_id__isnull=True, status__in=RunStatus.in_progress()
            ).update(
                provider_run_id=provider_run.id,
                submitted_at=provider_run.created_at or timezone.now(),
                claimed_at=Coalesce(F("claimed_at"), Value(timezone.now())),
            )
    except IntegrityError:
        logger.error("Runflow run %s is already attached to another run", provider_run.id)
        return False
    if not Run.objects.filter(pk=run_id, provider_run_id=provider_run.id).exists():
        logger.error("Run %s is not waiting for provider run %s", run_id, provider_run.id)
        return False
    run_apply_provider(run_id, provider_run)
    return True


def run_find_upstream(run: Run, runflow: RunflowClient) -> ProviderRun | None:
    """Runflow's run for ours, if it made one: listed by a window that ends when no
    create of ours can still be in flight (claims stop at the deadline)."""
    latest_create = run.deadline_at + timedelta(seconds=submit_worst_case_seconds())
    return runflow.find_by_client_ref(
        str(run.pk),
        created_after=run.created_at,
        created_before=min(timezone.now(), latest_create),
    )


def _submit_failed(run: Run, exc: RunflowError, runflow: RunflowClient) -> None:
    if exc.outcome_unknown:
        logger.warning("Submit of run %s has an unknown outcome (%s); looking it up", run.pk, exc)
        _look_up_after_unknown_outcome(run, runflow)
    elif isinstance(exc, RunflowRejected):
        logger.info("Runflow refused run %s: %s", run.pk, exc)
        run_finish(
            run.pk,
            Outcome(
                status=RunStatus.FAILED,
                failure_code=str(exc.code or "INVALID_INPUT")[:64],
                failure_message=exc.message or "Runflow refused the input.",
            ),
        )
    else:
        level = logging.WARNING if exc.retryable else logging.ERROR
        logger.log(level, "Submit of run %s refused (%s); the reconciler retries it", run.pk, exc)
        run_release_claim(run)


def _look_up_after_unknown_outcome(run: Run, runflow: RunflowClient) -> None:
    """Attach the run if Runflow made it; otherwise leave it claimed for the reconciler."""
    try:
        found = run_find_upstream(run, runflow)
    except RunflowError as exc:
        logger.warning("Lookup of run %s by client_ref failed: %s", run.pk, exc)
        return
    if found is not None:
        run_attach_provider(run.pk, found)
