"""The safety net: whatever the queue or the network lost, no run stays stranded.

Three kinds of stuck run, each settled by asking Runflow rather than by guessing:
- queued and never claimed (the submit task was lost): submit it;
- claimed with no provider id once its last create attempt's outcome window is over (the answer was
  lost): attach Runflow's run if it has one for our ``client_ref``, else take over the
  claim and submit again;
- in progress at Runflow with no news for a while (the callback was lost): poll it.
And one kind of stranded output: a succeeded run not yet delivered gets its next copy
attempt here when one is due (``seedance.delivery`` has the rule), its task lost or not.
A run past its deadline that Runflow has no record of fails with ``deadline_exceeded``;
one Runflow is still working on is flagged and kept, since we pay for it, up to its hard
limit; a refused lookup is never taken for "Runflow has none" (``seedance.services.deadlines``
has the rules). Runs we failed ourselves while Runflow might still make them are watched
for a late success (paid, not billed). Callbacks carry neither ``cost`` nor a failure's
reason, so those are read back here for finished runs.
"""

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from seedance.conf import create_outcome_window_seconds, setting
from seedance.exceptions import RunflowError, RunflowNotFound
from seedance.models import Run, RunDiscrepancy
from seedance.outcomes import PROVIDER_FAILED
from seedance.outputs import outputs_copy
from seedance.runflow.client import RunflowClient, runflow_client
from seedance.services.deadlines import (
    hard_limit_at,
    run_expire,
    run_fail_at_hard_limit,
    run_fail_lookup_refused,
    watched_runs,
)
from seedance.services.discrepancies import run_check_late_success
from seedance.services.runs import idempotency_keys_purge
from seedance.services.submission import lookup_refused, run_find_upstream, run_submit
from seedance.signals import run_cost_recorded
from seedance.states import Attention, Delivery, RunStatus
from seedance.transitions import run_apply_provider, run_attach_provider, run_flag

logger = logging.getLogger(__name__)

#: How long to keep asking Runflow for a finished run's cost or failure reason.
DETAILS_BACKFILL_WINDOW = timedelta(days=2)


@dataclass
class ReconcileReport:
    submitted: int = 0
    attached: int = 0
    polled: int = 0
    expired: int = 0
    flagged: int = 0
    paid_not_billed: int = 0
    backfilled: int = 0
    copied: int = 0
    errors: int = 0


Step = Callable[[Run, datetime, RunflowClient, ReconcileReport], None]


def reconcile_runs(
    *, now: datetime | None = None, client: RunflowClient | None = None
) -> ReconcileReport:
    now = now or timezone.now()
    report = ReconcileReport()
    batch = int(setting("RECONCILE_BATCH_SIZE"))
    runflow = client or runflow_client()
    try:
        _each(_unclaimed_and_waiting(now)[:batch], _settle_unclaimed, now, runflow, report)
        _each(_claimed_without_answer(now)[:batch], _settle_lost_create, now, runflow, report)
        _each(_in_progress_without_news(now)[:batch], _poll, now, runflow, report)
        _each(_finished_missing_details(now)[:batch], _backfill, now, runflow, report)
        _each(_awaiting_delivery(now)[:batch], _copy, now, runflow, report)
        _each(_failed_while_runflow_may_finish(now)[:batch], _watch, now, runflow, report)
    finally:
        if client is None:
            runflow.close()
    idempotency_keys_purge(now=now)
    if report != ReconcileReport():
        logger.info("Reconciled runs: %s", report)
    return report


def reconcile_lost_creates(
    *, now: datetime | None = None, client: RunflowClient | None = None
) -> ReconcileReport:
    """Only the lost creates, at the status sweep's cadence: a run whose create answer was
    lost is looked up (and, Runflow having none, sent again) seconds after its outcome
    window ends rather than at the next reconcile."""
    now = now or timezone.now()
    report = ReconcileReport()
    runs = _claimed_without_answer(now)[: int(setting("RECONCILE_BATCH_SIZE"))]
    if not runs:
        return report
    runflow = client or runflow_client()
    try:
        _each(runs, _settle_lost_create, now, runflow, report)
    finally:
        if client is None:
            runflow.close()
    return report


def _each(
    runs: Iterable[Run], step: Step, now: datetime, runflow: RunflowClient, report: ReconcileReport
) -> None:
    """One run's trouble (a network error, a value the database refuses) never stops the rest."""
    for run in runs:
        try:
            step(run, now, runflow, report)
        except RunflowError as exc:
            logger.warning("Reconciling run %s: Runflow answered %s", run.pk, exc)
            report.errors += 1
        except Exception:
            logger.exception("Reconciling run %s failed", run.pk)
            report.errors += 1


def _unclaimed_and_waiting(now: datetime) -> "list[Run]":
    waited = now - timedelta(seconds=int(setting("RECONCILE_QUEUED_AFTER_SECONDS")))
    return list(
        Run.objects.filter(
            status=RunStatus.QUEUED, claimed_at__isnull=True, provider_run_id__isnull=True
        )
        .filter(Q(created_at__lt=waited) | Q(deadline_at__lt=now))
        .order_by("created_at")
    )


def _claimed_without_answer(now: datetime) -> "list[Run]":
    """Claimed runs whose last create attempt (or, with none sent, the claim) is older than
    its outcome window: Runflow has made the run by now, or never will."""
    window_start = now - timedelta(seconds=create_outcome_window_seconds())
    return list(
        Run.objects.filter(status=RunStatus.QUEUED, provider_run_id__isnull=True)
        .alias(last_sent=Coalesce("create_sent_at", "claimed_at"))
        .filter(last_sent__lt=window_start)
        .order_by("last_sent")
    )


def _in_progress_without_news(now: datetime) -> "list[Run]":
    quiet = now - timedelta(seconds=int(setting("RECONCILE_POLL_AFTER_SECONDS")))
    return list(
        Run.objects.filter(status__in=RunStatus.in_progress(), provider_run_id__isnull=False)
        .filter(submitted_at__lt=quiet)
        .filter(Q(last_polled_at__isnull=True) | Q(last_polled_at__lt=quiet))
        .order_by("submitted_at")
    )


def _finished_missing_details(now: datetime) -> "list[Run]":
    missing = Q(status=RunStatus.SUCCEEDED, cost__isnull=True) | Q(
        status=RunStatus.FAILED, failure_code=PROVIDER_FAILED
    )
    candidates = Run.objects.filter(
        missing,
        provider_run_id__isnull=False,
        completed_at__gt=now - DETAILS_BACKFILL_WINDOW,
    ).order_by("completed_at")
    return [run for run in candidates if _due_for_backfill(run, now)]


def _awaiting_delivery(now: datetime) -> "list[Run]":
    """Succeeded runs still being delivered whose next copy attempt is due; one never
    attempted is left to its own copy task for the first retry delay."""
    never_tried_before = now - timedelta(seconds=float(setting("OUTPUT_COPY_RETRY_BASE_SECONDS")))
    return list(
        Run.objects.filter(status=RunStatus.SUCCEEDED, delivery=Delivery.PENDING)
        .filter(
            Q(next_delivery_at__lte=now)
            | Q(next_delivery_at__isnull=True, completed_at__lt=never_tried_before)
        )
        .order_by("completed_at")
    )


def _failed_while_runflow_may_finish(now: datetime) -> "list[Run]":
    candidates = (
        Run.objects.filter(watched_runs(now))
        .exclude(discrepancies__kind=RunDiscrepancy.Kind.PAID_NOT_BILLED)
        .order_by("completed_at")
    )
    return [run for run in candidates if _due_for_backfill(run, now)]


def _due_for_backfill(run: Run, now: datetime) -> bool:
    """Ask again after half the run's age, at least the poll interval: ~20 asks in 2 days."""
    if run.last_polled_at is None:
        return True
    assert run.completed_at is not None
    pause = max(
        timedelta(seconds=int(setting("RECONCILE_POLL_AFTER_SECONDS"))),
        (now - run.completed_at) / 2,
    )
    return run.last_polled_at < now - pause


def _settle_unclaimed(
    run: Run, now: datetime, runflow: RunflowClient, report: ReconcileReport
) -> None:
    only_if = Q(claimed_at__isnull=True, provider_run_id__isnull=True)
    # A released claim may hide an earlier create whose answer was lost: look first.
    if run.submit_attempts and not _runflow_has_none(run, now, runflow, report, only_if):
        return
    if run.deadline_at < now:
        _expire(run, only_if=only_if, report=report)
        return
    # Looked up above when it was ever sent: a suspended tenant's run may be canceled.
    run_submit(run.pk, client=runflow, upstream_checked=True)
    report.submitted += 1


def _settle_lost_create(
    run: Run, now: datetime, runflow: RunflowClient, report: ReconcileReport
) -> None:
    only_if = Q(claimed_at=run.claimed_at, provider_run_id__isnull=True)
    if not _runflow_has_none(run, now, runflow, report, only_if):
        return
    if run.deadline_at < now:
        _expire(run, only_if=only_if, report=report)
        return
    run_submit(run.pk, client=runflow, stale_claim=run.claimed_at, upstream_checked=True)
    report.submitted += 1


def _runflow_has_none(
    run: Run, now: datetime, runflow: RunflowClient, report: ReconcileReport, only_if: Q
) -> bool:
    """True only when Runflow answered the lookup and has no run for ours: the one case
    where expiring or resubmitting is safe. Runflow's run, when found, is attached."""
    try:
        found = run_find_upstream(run, runflow)
    except RunflowError as exc:
        logger.warning("Looking up run %s by client_ref: Runflow answered %s", run.pk, exc)
        report.errors += 1
        if not lookup_refused(exc):
            _unanswered_past_deadline(run, now, report, only_if, why="Runflow could not be asked")
    else:
        if found is not None:
            report.attached += run_attach_provider(run.pk, found)
            return False
        if run.attention != Attention.LOOKUP_REFUSED:
            return True
    # Refused now or before: never resubmitted; failed at its deadline.
    if run.attention == Attention.LOOKUP_REFUSED and run.deadline_at < now:
        report.expired += run_fail_lookup_refused(run, now=now) is not None
    return False


def _unanswered_past_deadline(
    run: Run, now: datetime, report: ReconcileReport, only_if: Q, *, why: str
) -> None:
    """Runflow may be making the run: flagged past its deadline, failed at the hard limit."""
    if hard_limit_at(run) < now:
        report.expired += run_fail_at_hard_limit(run, now=now, why=why, only_if=only_if) is not None
    elif run.deadline_at < now:
        report.flagged += run_flag(run.pk, Attention.OVERDUE, now=now)


def _poll(run: Run, now: datetime, runflow: RunflowClient, report: ReconcileReport) -> None:
    assert run.provider_run_id is not None
    Run.objects.filter(pk=run.pk).update(last_polled_at=now)
    only_if = Q(provider_run_id=run.provider_run_id)
    try:
        provider_run = runflow.get_run(run.provider_run_id)
    except RunflowNotFound:
        logger.error("Runflow has no run %s for our run %s", run.provider_run_id, run.pk)
        if run.deadline_at < now:
            _expire(run, only_if=only_if, report=report)
        return
    except RunflowError:
        _unanswered_past_deadline(run, now, report, only_if, why="Runflow could not be asked")
        raise
    if provider_run.id != run.provider_run_id:
        logger.error("Runflow answered run %s for %s", provider_run.id, run.provider_run_id)
        return
    run_apply_provider(run.pk, provider_run)
    report.polled += 1
    if not provider_run.is_terminal:
        why = f"Runflow still reported it in progress ({provider_run.raw_status!r})"
        _unanswered_past_deadline(run, now, report, only_if, why=why)


def _backfill(run: Run, now: datetime, runflow: RunflowClient, report: ReconcileReport) -> None:
    """Fill in what a callback does not carry; never touches the status."""
    assert run.provider_run_id is not None
    Run.objects.filter(pk=run.pk).update(last_polled_at=now)
    provider_run = runflow.get_run(run.provider_run_id)
    if provider_run.id != run.provider_run_id:
        return
    if provider_run.cost is not None:
        with transaction.atomic():
            if Run.objects.filter(pk=run.pk, cost__isnull=True).update(cost=provider_run.cost):
                run_cost_recorded.send(sender=Run, run_id=run.pk, cost=provider_run.cost)
                report.backfilled += 1
    if run.status == RunStatus.FAILED and provider_run.failure_code:
        report.backfilled += Run.objects.filter(pk=run.pk, failure_code=PROVIDER_FAILED).update(
            failure_code=provider_run.failure_code,
            failure_message=provider_run.failure_message,
        )


def _watch(run: Run, now: datetime, runflow: RunflowClient, report: ReconcileReport) -> None:
    """A run we failed ourselves: did Runflow make it after all?"""
    report.paid_not_billed += run_check_late_success(run, runflow, now=now) is not None


def _copy(run: Run, now: datetime, runflow: RunflowClient, report: ReconcileReport) -> None:
    """The copy task was lost, or its attempt failed and another is due."""
    report.copied += outputs_copy(run.pk, now=now)


def _expire(run: Run, *, only_if: Q, report: ReconcileReport) -> None:
    report.expired += run_expire(run, only_if=only_if) is not None
