"""Sending a run to Runflow exactly once.

A submit first claims the run with a conditional UPDATE, so running it twice, or twice at
once, sends one create. When Runflow's answer is lost the run stays claimed and is looked
up by ``client_ref``; only the reconciler may resubmit, once the last attempt's outcome
window is over and Runflow has none, by taking over that exact claim (compare-and-swap),
so two reconcilers never both resend. Each attempt is sent only after noting its send time
under the claim it was made with, so a submit taken over while it waited to retry stops.

The claim (``seedance.transitions.run_claim``) first reads the tenant's suspension under
a lock on the tenant's row, the lock a suspension takes too: a run is claimed either before
a suspension commits (it is sent, finishes and is billed) or never (it is canceled, once
nothing can have been sent).
"""

import logging
from contextlib import ExitStack
from datetime import datetime, timedelta
from functools import partial
from uuid import UUID

from django.urls import reverse
from django.utils import timezone

from seedance.conf import setting, submit_worst_case_seconds
from seedance.exceptions import RunflowError, RunflowRejected
from seedance.log_context import bound_to_run
from seedance.metrics.instruments import SUBMIT_LATENCY, seconds_since
from seedance.models import Run
from seedance.outcomes import Outcome
from seedance.runflow.client import RunflowClient, runflow_client
from seedance.runflow.payloads import ProviderRun
from seedance.states import Attention, RunStatus
from seedance.transitions import (
    run_attach_provider,
    run_claim,
    run_finish,
    run_flag,
    run_note_create_sent,
    run_release_claim,
)

logger = logging.getLogger(__name__)


def callback_url_for(run_id: UUID | str) -> str:
    path = reverse("seedance:runflow-callback", kwargs={"run_id": run_id})
    return f"{str(setting('PUBLIC_BASE_URL')).rstrip('/')}{path}"


@bound_to_run
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
                run_input=run.input,
                client_ref=str(run.pk),
                callback_url=callback_url_for(run.pk),
                before_attempt=partial(_note_sent_under_claim, run),
            )
        except RunflowError as exc:
            _submit_failed(run, exc, runflow)
            return
        except ClaimTakenOver:
            logger.warning("Run %s was taken over while its submit waited; not sending", run.pk)
            return
    if run_attach_provider(run.pk, provider_run):
        SUBMIT_LATENCY.observe(seconds_since(run.created_at))


class ClaimTakenOver(Exception):
    """The reconciler took the run over while this submit waited between attempts."""


def _note_sent_under_claim(run: Run) -> None:
    """Before each create attempt: the moment the outcome window is measured from, noted
    only while this submit still holds its claim."""
    if not run_note_create_sent(run.pk, claimed_at=run.claimed_at):
        raise ClaimTakenOver(run.pk)


def run_find_upstream(run: Run, runflow: RunflowClient) -> ProviderRun | None:
    """Runflow's run for ours, if it made one: listed by a window that ends when no
    create of ours can still be in flight (claims stop at the deadline).

    A refusal (a non-retryable error, e.g. 422 on the list filter) is not "Runflow has
    none": the run is flagged ``lookup_refused``, which no claim takes again, and the
    error is raised for the caller.
    """
    latest_create = run.deadline_at + timedelta(seconds=submit_worst_case_seconds())
    try:
        return runflow.find_by_client_ref(
            str(run.pk),
            created_after=run.created_at,
            created_before=min(timezone.now(), latest_create),
        )
    except RunflowError as exc:
        if lookup_refused(exc):
            logger.error("Runflow refused the lookup of run %s by client_ref: %s", run.pk, exc)
            if run_flag(run.pk, Attention.LOOKUP_REFUSED, now=timezone.now()):
                run.attention = Attention.LOOKUP_REFUSED
        raise


def lookup_refused(exc: RunflowError) -> bool:
    """An answer that will not change by asking again the same way (400, 401, 422, ...)."""
    return not exc.retryable and not exc.outcome_unknown


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
    """Attach the run if Runflow made it; otherwise leave it claimed for the reconciler
    (a refused lookup also flags it, so it is never resubmitted)."""
    try:
        found = run_find_upstream(run, runflow)
    except RunflowError as exc:
        logger.warning("Lookup of run %s by client_ref failed: %s", run.pk, exc)
        return
    if found is not None:
        run_attach_provider(run.pk, found)
