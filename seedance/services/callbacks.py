"""A verified Runflow callback is a wake-up: Runflow's own ``GET /v1/runs/{id}`` is applied.

Runflow signs only the body, with no timestamp, so a leaked secret or a captured body
could tell us anything: a callback is recorded and answered at once, and a task asks
Runflow what the run really is. Outputs and failure reasons therefore only ever come from
Runflow's GET. A callback is still matched to its run first (a captured body replayed to
another run's URL is a mismatch, never a wake-up). A callback for a run we failed ourselves
while Runflow might still make it wakes a check for a late success (paid, not billed).
"""

import hashlib
import logging
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from seedance import queue
from seedance.conf import setting
from seedance.exceptions import RunflowError
from seedance.log_context import bound_to_run
from seedance.metrics.instruments import CALLBACK_LAG, seconds_since
from seedance.models import InboundDelivery, Run
from seedance.runflow.client import RunflowClient, runflow_client
from seedance.runflow.payloads import ProviderRun
from seedance.services.deadlines import failed_while_runflow_may_finish
from seedance.services.discrepancies import run_check_late_success
from seedance.services.submission import run_find_upstream
from seedance.states import RunStatus
from seedance.transitions import run_apply_provider, run_attach_provider

logger = logging.getLogger(__name__)

Outcome = InboundDelivery.Outcome


@dataclass(frozen=True)
class CallbackResult:
    run: Run
    outcome: str


def callback_dedupe_key(*, run_id: UUID, body: bytes) -> str:
    """Runflow callbacks carry no event id: the same body to the same run is a repeat."""
    return f"{run_id}:{hashlib.sha256(body).hexdigest()}"


def callback_receive(*, run_id: UUID, provider_run: ProviderRun) -> CallbackResult:
    """Raises Run.DoesNotExist for an unknown run; a mismatch is reported, never acted on.

    No savepoint of its own: inside the view's transaction an error here fails the whole
    delivery (recorded and applied together, or neither), so one would only cost two
    round trips; alone it is its own transaction as before."""
    with transaction.atomic(savepoint=False):
        run = Run.objects.get(pk=run_id)
        if not _belongs_to(run, provider_run):
            logger.warning(
                "Callback for Runflow run %s posted to run %s (provider id %s): ignored",
                provider_run.id,
                run.pk,
                run.provider_run_id,
            )
            return CallbackResult(run, Outcome.MISMATCH)
        if run.is_terminal and not failed_while_runflow_may_finish(run, now=timezone.now()):
            return CallbackResult(run, Outcome.DUPLICATE)
        if provider_run.is_terminal and not run.is_terminal:
            # Runflow's read may lag its callback: keep asking until it agrees.
            Run.objects.filter(pk=run.pk, recheck_at__isnull=True).update(
                recheck_at=_next_recheck(timezone.now())
            )
        transaction.on_commit(partial(queue.enqueue_refresh, run.pk), robust=True)
    if provider_run.is_terminal and provider_run.completed_at is not None:
        CALLBACK_LAG.observe(seconds_since(provider_run.completed_at))
    return CallbackResult(run, Outcome.WOKE)


@bound_to_run
def run_refresh(run_id: UUID | str, *, client: RunflowClient | None = None) -> bool:
    """Apply what Runflow's GET says about a run; True when anything moved.

    A run with no provider id yet (the callback beat the create's answer) is looked up by
    its client_ref, never attached from the callback body. When Runflow cannot be asked, or
    still says in progress after a terminal callback, the recheck stays booked.
    """
    run = Run.objects.filter(pk=run_id).first()
    if run is None:
        return False
    if run.is_terminal:
        return _check_late_success(run, client)
    runflow = client or runflow_client()
    changed = False
    try:
        changed = _ask_runflow(run, runflow)
    except RunflowError as exc:
        logger.warning("Refreshing run %s: Runflow answered %s; asking again later", run.pk, exc)
        Run.objects.filter(pk=run.pk, recheck_at__isnull=True).update(
            recheck_at=_next_recheck(timezone.now())
        )
    finally:
        if client is None:
            runflow.close()
    run_book_recheck(run.pk, now=timezone.now())
    return changed


def _check_late_success(run: Run, client: RunflowClient | None) -> bool:
    """A callback for a run we failed ourselves: Runflow may have made it after all."""
    now = timezone.now()
    if not failed_while_runflow_may_finish(run, now=now):
        return False
    with ExitStack() as owned:
        runflow = client or owned.enter_context(runflow_client())
        try:
            run_check_late_success(run, runflow, now=now)
        except RunflowError as exc:
            logger.warning("Checking failed run %s: Runflow answered %s", run.pk, exc)
    return False


def run_book_recheck(run_id: Any, *, now: datetime, booked: datetime | None = None) -> bool:
    """Push a pending recheck of an in-progress run to the next interval; True if booked.

    ``booked`` makes it a claim: only the caller that saw that booking moves it. Past the
    run's deadline the recheck is dropped: the reconciler settles such runs.
    """
    pending = Run.objects.filter(
        pk=run_id, recheck_at__isnull=False, status__in=RunStatus.in_progress()
    )
    if booked is not None:
        pending = pending.filter(recheck_at=booked)
    pending.filter(deadline_at__lte=now).update(recheck_at=None)
    return pending.filter(deadline_at__gt=now).update(recheck_at=_next_recheck(now)) == 1


def _ask_runflow(run: Run, runflow: RunflowClient) -> bool:
    if run.provider_run_id is None:
        found = run_find_upstream(run, runflow)
        return found is not None and run_attach_provider(run.pk, found)
    Run.objects.filter(pk=run.pk).update(last_polled_at=timezone.now())
    provider_run = runflow.get_run(run.provider_run_id)
    if provider_run.id != run.provider_run_id:
        logger.error("Runflow answered run %s for %s", provider_run.id, run.provider_run_id)
        return False
    return run_apply_provider(run.pk, provider_run)


def _next_recheck(now: datetime) -> datetime:
    return now + timedelta(seconds=float(setting("CALLBACK_RECHECK_SECONDS")))


def _belongs_to(run: Run, provider_run: ProviderRun) -> bool:
    if run.provider_run_id is not None:
        return run.provider_run_id == provider_run.id
    return provider_run.our_run_id == str(run.pk)
