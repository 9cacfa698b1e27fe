"""The deadline and the hard limit: what a run that Runflow has not finished ends as.

At its deadline a run is settled by what Runflow says, never by a guess:
- Runflow has no record of it: it fails ``deadline_exceeded`` (the reconciler's expiry);
- Runflow reports it in progress (a status we do not know included) or cannot be asked:
  it is flagged ``overdue`` and keeps its reservation, since Runflow may still charge us;
- Runflow refused its lookup by client_ref: flagged ``lookup_refused`` at the refusal,
  never resubmitted, and failed ``lookup_refused`` at its deadline.
At the hard limit (``RUN_HARD_LIMIT_SECONDS`` from creation) an overdue run fails
``deadline_exceeded`` and its reservation is released: the one exception to "a run we pay
Runflow for is never discarded". Both failures keep the run's flag, and a later success
at Runflow is recorded as paid-not-billed (``seedance.services.discrepancies``).
"""

from datetime import datetime, timedelta

from django.db.models import Q

from seedance.conf import setting
from seedance.models import Run
from seedance.outcomes import DEADLINE_EXCEEDED, LOOKUP_REFUSED, Outcome
from seedance.states import Attention, RunStatus
from seedance.transitions import run_finish

#: Failures we give a run while Runflow may still make it.
FAILED_WHILE_RUNFLOW_MAY_FINISH = (DEADLINE_EXCEEDED, LOOKUP_REFUSED)


def hard_limit_at(run: Run) -> datetime:
    limit = timedelta(seconds=int(setting("RUN_HARD_LIMIT_SECONDS")))
    return max(run.deadline_at, run.created_at + limit)


def run_expire(run: Run, *, only_if: Q) -> Run | None:
    """Fail a run we verified Runflow never made: a provider id appearing meanwhile wins."""
    outcome = Outcome(
        status=RunStatus.FAILED,
        failure_code=DEADLINE_EXCEEDED,
        failure_message=(
            "The run did not finish before its deadline and Runflow has no record of it."
        ),
    )
    return run_finish(run.pk, outcome, only_if=only_if)


def run_fail_at_hard_limit(run: Run, *, now: datetime, why: str, only_if: Q) -> Run | None:
    """Fail an overdue run at its hard limit; ``why`` says what Runflow last told us."""
    hours = int(setting("RUN_HARD_LIMIT_SECONDS")) / 3600
    outcome = Outcome(
        status=RunStatus.FAILED,
        failure_code=DEADLINE_EXCEEDED,
        failure_message=(
            f"The run reached its hard limit ({hours:g} h after it was made) and {why}. "
            "If Runflow finishes it later, that is recorded for a person, never billed."
        ),
        attention=Attention.OVERDUE,
        completed_at=now,
    )
    return run_finish(run.pk, outcome, only_if=only_if)


def run_fail_lookup_refused(run: Run, *, now: datetime) -> Run | None:
    """Fail a run at its deadline whose every lookup Runflow refused; a provider id
    appearing meanwhile, or another claim, wins. Both failures end at the caller's ``now``:
    the watch for a late success is paced from it."""
    outcome = Outcome(
        status=RunStatus.FAILED,
        failure_code=LOOKUP_REFUSED,
        failure_message=(
            "Runflow refused to look this run up by client_ref until its deadline, so it was "
            "never sent again. If Runflow made it, that is recorded for a person, never billed."
        ),
        attention=Attention.LOOKUP_REFUSED,
        completed_at=now,
    )
    return run_finish(
        run.pk, outcome, only_if=Q(claimed_at=run.claimed_at, provider_run_id__isnull=True)
    )


def failed_while_runflow_may_finish(run: Run, *, now: datetime) -> bool:
    """A run we failed ourselves that Runflow may still make, inside the watch window."""
    window = timedelta(seconds=int(setting("PAID_NOT_BILLED_WATCH_SECONDS")))
    return (
        run.status == RunStatus.FAILED
        and run.failure_code in FAILED_WHILE_RUNFLOW_MAY_FINISH
        and run.attention != Attention.NONE
        and run.completed_at is not None
        and run.completed_at > now - window
    )


def watched_runs(now: datetime) -> "Q":
    """The query of ``failed_while_runflow_may_finish``, for the reconciler."""
    window = timedelta(seconds=int(setting("PAID_NOT_BILLED_WATCH_SECONDS")))
    return Q(
        status=RunStatus.FAILED,
        failure_code__in=FAILED_WHILE_RUNFLOW_MAY_FINISH,
        completed_at__gt=now - window,
    ) & ~Q(attention=Attention.NONE)
