"""Sending a run to Runflow exactly once.

A submit first claims the run with a conditional UPDATE, so running it twice, or twice at
once, sends one create. When Runflow's answer is lost the run stays claimed and is looked
up by ``client_ref``; only the reconciler may resubmit, after the submit's worst case.
"""

import logging
from uuid import UUID

from django.db import IntegrityError, transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from seedance.conf import setting
from seedance.exceptions import RunflowError, RunflowRejected
from seedance.models import Run
from seedance.runflow.client import RunflowClient, runflow_client
from seedance.runflow.payloads import ProviderRun
from seedance.states import RunStatus
from seedance.transitions import Outcome, run_apply_provider, run_finish

logger = logging.getLogger(__name__)


def callback_url_for(run_id: UUID | str) -> str:
    path = reverse("seedance:runflow-callback", kwargs={"run_id": run_id})
    return f"{str(setting('PUBLIC_BASE_URL')).rstrip('/')}{path}"


def run_claim(run_id: UUID | str) -> Run | None:
    """Take the run for submission; None if it is not waiting for one (or someone has it)."""
    claimed = Run.objects.filter(
        pk=run_id,
        status=RunStatus.QUEUED,
        claimed_at__isnull=True,
        provider_run_id__isnull=True,
    ).update(claimed_at=timezone.now(), submit_attempts=F("submit_attempts") + 1)
    return Run.objects.get(pk=run_id) if claimed else None


def run_release_claim(run_id: UUID | str) -> None:
    """Give the run back to the reconciler: Runflow surely has no run for it."""
    Run.objects.filter(pk=run_id, provider_run_id__isnull=True).update(claimed_at=None)


def run_submit(run_id: UUID | str, *, client: RunflowClient | None = None) -> None:
    run = run_claim(run_id)
    if run is None:
        return
    with client or runflow_client() as runflow:
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
            Run.objects.filter(pk=run_id, provider_run_id__isnull=True).update(
                provider_run_id=provider_run.id,
                submitted_at=provider_run.created_at or timezone.now(),
                claimed_at=Coalesce(F("claimed_at"), Value(timezone.now())),
            )
    except IntegrityError:
        logger.error("Runflow run %s is already attached to another run", provider_run.id)
        return False
    if not Run.objects.filter(pk=run_id, provider_run_id=provider_run.id).exists():
        logger.error("Run %s already has a provider id other than %s", run_id, provider_run.id)
        return False
    run_apply_provider(run_id, provider_run)
    return True


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
        run_release_claim(run.pk)


def _look_up_after_unknown_outcome(run: Run, runflow: RunflowClient) -> None:
    """Attach the run if Runflow made it; otherwise leave it claimed for the reconciler."""
    try:
        found = runflow.find_by_client_ref(str(run.pk), created_after=run.created_at)
    except RunflowError as exc:
        logger.warning("Lookup of run %s by client_ref failed: %s", run.pk, exc)
        return
    if found is not None:
        run_attach_provider(run.pk, found)
