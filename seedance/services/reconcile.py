"""The safety net: whatever the queue or the network lost, no run stays stranded.

Three kinds of stuck run, each settled by asking Runflow rather than by guessing:
- queued and never claimed (the submit task was lost): submit it;
- claimed for longer than a submit can take, with no provider id (the create's answer was
  lost): attach Runflow's run if it has one for our ``client_ref``, else submit again;
- in progress at Runflow with no news for a while (the callback was lost): poll it.
A run past its deadline that Runflow has no record of fails with ``deadline_exceeded``;
a run Runflow is still working on is kept, since we pay for it. Callbacks carry no
``cost``, so Runflow's charge for a succeeded run is read back here too.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from seedance.conf import setting, submit_worst_case_seconds
from seedance.exceptions import RunflowError, RunflowNotFound
from seedance.models import Run
from seedance.runflow.client import RunflowClient, runflow_client
from seedance.services.submission import run_attach_provider, run_release_claim, run_submit
from seedance.states import RunStatus
from seedance.transitions import Outcome, run_apply_provider, run_finish

logger = logging.getLogger(__name__)

DEADLINE_EXCEEDED = "deadline_exceeded"
#: How long to keep asking Runflow for the charge of a succeeded run before giving up.
COST_BACKFILL_WINDOW = timedelta(days=2)


@dataclass
class ReconcileReport:
    submitted: int = 0
    attached: int = 0
    polled: int = 0
    expired: int = 0
    costed: int = 0


def reconcile_runs(
    *, now: datetime | None = None, client: RunflowClient | None = None
) -> ReconcileReport:
    now = now or timezone.now()
    report = ReconcileReport()
    batch = int(setting("RECONCILE_BATCH_SIZE"))
    with client or runflow_client() as runflow:
        for run in _unclaimed_and_waiting(now)[:batch]:
            _settle_unclaimed(run, now, runflow, report)
        for run in _claimed_without_answer(now)[:batch]:
            _settle_lost_create(run, now, runflow, report)
        for run in _in_progress_without_news(now)[:batch]:
            _poll(run, now, runflow, report)
        for run in _succeeded_without_cost(now)[:batch]:
            _record_cost(run, now, runflow, report)
    if report != ReconcileReport():
        logger.info("Reconciled runs: %s", report)
    return report


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
    worst_case = now - timedelta(seconds=submit_worst_case_seconds())
    return list(
        Run.objects.filter(
            status=RunStatus.QUEUED, provider_run_id__isnull=True, claimed_at__lt=worst_case
        ).order_by("claimed_at")
    )


def _in_progress_without_news(now: datetime) -> "list[Run]":
    quiet = now - timedelta(seconds=int(setting("RECONCILE_POLL_AFTER_SECONDS")))
    return list(
        Run.objects.filter(status__in=RunStatus.in_progress(), provider_run_id__isnull=False)
        .filter(submitted_at__lt=quiet)
        .filter(Q(last_polled_at__isnull=True) | Q(last_polled_at__lt=quiet))
        .order_by("submitted_at")
    )


def _succeeded_without_cost(now: datetime) -> "list[Run]":
    quiet = now - timedelta(seconds=int(setting("RECONCILE_POLL_AFTER_SECONDS")))
    return list(
        Run.objects.filter(
            status=RunStatus.SUCCEEDED,
            provider_run_id__isnull=False,
            cost__isnull=True,
            completed_at__gt=now - COST_BACKFILL_WINDOW,
        )
        .filter(Q(last_polled_at__isnull=True) | Q(last_polled_at__lt=quiet))
        .order_by("completed_at")
    )


def _settle_unclaimed(
    run: Run, now: datetime, runflow: RunflowClient, report: ReconcileReport
) -> None:
    # A released claim may hide an earlier create whose answer was lost: look first.
    try:
        if run.submit_attempts and _attach_if_runflow_has_it(run, runflow, report):
            return
    except RunflowError as exc:
        logger.warning("Could not look up run %s at Runflow: %s", run.pk, exc)
        return
    if run.deadline_at < now:
        _expire(run, only_if=Q(claimed_at__isnull=True), report=report)
        return
    run_submit(run.pk, client=runflow)
    report.submitted += 1


def _settle_lost_create(
    run: Run, now: datetime, runflow: RunflowClient, report: ReconcileReport
) -> None:
    try:
        if _attach_if_runflow_has_it(run, runflow, report):
            return
    except RunflowError as exc:
        logger.warning("Could not look up run %s at Runflow: %s", run.pk, exc)
        return
    if run.deadline_at < now:
        _expire(run, only_if=Q(claimed_at=run.claimed_at), report=report)
        return
    run_release_claim(run.pk)
    run_submit(run.pk, client=runflow)
    report.submitted += 1


def _attach_if_runflow_has_it(run: Run, runflow: RunflowClient, report: ReconcileReport) -> bool:
    found = runflow.find_by_client_ref(str(run.pk), created_after=run.created_at)
    if found is None:
        return False
    if run_attach_provider(run.pk, found):
        report.attached += 1
    return True


def _poll(run: Run, now: datetime, runflow: RunflowClient, report: ReconcileReport) -> None:
    assert run.provider_run_id is not None
    Run.objects.filter(pk=run.pk).update(last_polled_at=now)
    try:
        provider_run = runflow.get_run(run.provider_run_id)
    except RunflowNotFound:
        logger.error("Runflow has no run %s for our run %s", run.provider_run_id, run.pk)
        if run.deadline_at < now:
            _expire(run, only_if=Q(provider_run_id=run.provider_run_id), report=report)
        return
    except RunflowError as exc:
        logger.warning("Polling run %s failed: %s", run.pk, exc)
        return
    if provider_run.id != run.provider_run_id:
        logger.error("Runflow answered run %s for %s", provider_run.id, run.provider_run_id)
        return
    run_apply_provider(run.pk, provider_run)
    report.polled += 1


def _record_cost(run: Run, now: datetime, runflow: RunflowClient, report: ReconcileReport) -> None:
    assert run.provider_run_id is not None
    Run.objects.filter(pk=run.pk).update(last_polled_at=now)
    try:
        provider_run = runflow.get_run(run.provider_run_id)
    except RunflowError as exc:
        logger.warning("Reading Runflow's cost of run %s failed: %s", run.pk, exc)
        return
    if provider_run.cost is not None and provider_run.id == run.provider_run_id:
        report.costed += Run.objects.filter(pk=run.pk, cost__isnull=True).update(
            cost=provider_run.cost
        )


def _expire(run: Run, *, only_if: Q, report: ReconcileReport) -> None:
    outcome = Outcome(
        status=RunStatus.FAILED,
        failure_code=DEADLINE_EXCEEDED,
        failure_message=(
            "The run did not finish before its deadline and Runflow has no record of it."
        ),
    )
    if run_finish(run.pk, outcome, only_if=only_if) is not None:
        report.expired += 1
