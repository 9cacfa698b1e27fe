"""The runs section: runs the reconciler should already have settled, runs flagged for a
person, paid-not-billed discrepancies and NSFW runs waiting for review.

"Stuck" reuses the reconciler's own thresholds (``seedance.services.reconcile``) plus
``RECONCILER_GRACE``: the reconciler runs every minute, so a run still matching its query
several rounds later means the reconciler is not running, or fails on it.
"""

from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Q, QuerySet, Sum
from django.db.models.functions import Coalesce

from seedance.conf import create_outcome_window_seconds, setting
from seedance.doctor.findings import (
    Context,
    Finding,
    Section,
    Severity,
    admin_page,
    age,
    ok,
    plain,
    shown,
)
from seedance.models import Run, RunDiscrepancy
from seedance.services.deadlines import watched_runs
from seedance.states import Attention, Delivery, RunStatus

RECONCILER_GRACE = timedelta(minutes=5)
REVIEW_QUEUE = "admin:seedance_run_review"

RECONCILER_TODO = (
    "The reconciler settles these every minute: check that a qcluster worker runs "
    "(`manage.py qcluster`) and that the `seedance.reconcile-runs` schedule exists "
    "(admin > Django Q > Scheduled tasks: {schedules}); its failures are under failed tasks."
)


def _seconds(name: str) -> timedelta:
    return timedelta(seconds=float(setting(name)))


def stuck_runs(now: datetime) -> dict[str, tuple[str, QuerySet[Run]]]:
    """Each kind of stuck run: a code, one line saying what it is, and its runs."""
    grace = RECONCILER_GRACE
    in_flight = Run.objects.filter(status__in=RunStatus.in_progress())
    quiet = now - _seconds("RECONCILE_POLL_AFTER_SECONDS") - grace
    hard_limit = _seconds("RUN_HARD_LIMIT_SECONDS")
    return {
        "never_submitted": (
            "queued and never submitted to Runflow (the submit task was lost)",
            in_flight.filter(
                status=RunStatus.QUEUED,
                claimed_at__isnull=True,
                provider_run_id__isnull=True,
                created_at__lt=now - _seconds("RECONCILE_QUEUED_AFTER_SECONDS") - grace,
            ),
        ),
        "create_unanswered": (
            "claimed, their last create attempt's outcome window over, with no Runflow id",
            in_flight.filter(status=RunStatus.QUEUED, provider_run_id__isnull=True)
            .alias(last_sent=Coalesce("create_sent_at", "claimed_at"))
            .filter(last_sent__lt=now - timedelta(seconds=create_outcome_window_seconds()) - grace),
        ),
        "no_news": (
            "at Runflow with no callback and no poll for long",
            in_flight.filter(provider_run_id__isnull=False, submitted_at__lt=quiet).filter(
                Q(last_polled_at__isnull=True) | Q(last_polled_at__lt=quiet)
            ),
        ),
        "past_deadline_unflagged": (
            "in flight past their deadline and not flagged overdue",
            in_flight.filter(deadline_at__lt=now - grace, attention=Attention.NONE),
        ),
        "past_hard_limit": (
            "in flight past their hard limit (they should have failed, releasing the money)",
            in_flight.filter(deadline_at__lt=now - grace, created_at__lt=now - hard_limit - grace),
        ),
        "copy_overdue": (
            "succeeded, but our copy of the video is overdue (tenants still see them running)",
            Run.objects.filter(status=RunStatus.SUCCEEDED, delivery=Delivery.PENDING).filter(
                Q(next_delivery_at__lt=now - grace)
                | Q(
                    next_delivery_at__isnull=True,
                    completed_at__lt=now - _seconds("OUTPUT_COPY_RETRY_BASE_SECONDS") - grace,
                )
            ),
        ),
    }


def _stuck(now: datetime) -> Iterator[Finding]:
    todo = RECONCILER_TODO.format(schedules=admin_page("admin:django_q_schedule_changelist"))
    found = False
    for kind, (what, runs) in stuck_runs(now).items():
        ids = list(runs.order_by("created_at").values_list("pk", flat=True))
        if ids:
            found = True
            yield Finding(
                f"runs.stuck.{kind}",
                Severity.PROBLEM,
                f"{len(ids)} run(s) {what}.",
                todo=todo,
                count=len(ids),
                items=shown(ids),
            )
    if not found:
        yield ok("runs.stuck", "No stuck runs.")


def _flagged(now: datetime) -> Iterator[Finding]:
    flagged = Run.objects.filter(status__in=RunStatus.in_progress()).exclude(
        attention=Attention.NONE
    )
    ids = list(flagged.order_by("attention_since").values_list("pk", flat=True))
    if ids:
        hours = float(setting("RUN_HARD_LIMIT_SECONDS")) / 3600
        yield Finding(
            "runs.flagged",
            Severity.WARNING,
            f"{len(ids)} run(s) past their deadline that Runflow still reports in progress, "
            "cannot be asked about, or refused to look up; their reservations are kept.",
            todo=(
                f"Nothing to do while Runflow works on them: they fail on their own {hours:g} h "
                "after creation. Look one up at Runflow by its provider id from "
                f"{admin_page('admin:seedance_run_changelist', 'attention__exact=overdue')}."
            ),
            count=len(ids),
            items=shown(ids),
        )
    else:
        yield ok("runs.flagged", "No run is flagged overdue or lookup-refused.")
    watched = Run.objects.filter(watched_runs(now)).count()
    yield ok(
        "runs.watched",
        f"{watched} run(s) we failed ourselves are watched for a late success at Runflow "
        "(recorded as paid, not billed, if it comes).",
        watched=watched,
    )


def _discrepancies() -> Iterator[Finding]:
    open_ = RunDiscrepancy.objects.filter(resolved_at__isnull=True)
    run_ids = list(open_.order_by("detected_at").values_list("run_id", flat=True))
    if not run_ids:
        yield ok("runs.discrepancies", "No open paid-not-billed discrepancy.")
        return
    cost = open_.aggregate(total=Sum("cost"))["total"] or Decimal(0)
    yield Finding(
        "runs.discrepancies",
        Severity.PROBLEM,
        f"{len(run_ids)} run(s) Runflow made and charged us for (USD {plain(cost)}) after we had "
        "failed them: paid, not billed.",
        todo=(
            "Decide with Runflow (a refund) or the tenant, then mark each resolved with a note: "
            f"{admin_page('admin:seedance_rundiscrepancy_changelist', 'open=yes')}."
        ),
        count=len(run_ids),
        items=shown(run_ids),
        details={"cost_usd": plain(cost)},
    )


def _moderation(now: datetime) -> Iterator[Finding]:
    held = Run.objects.filter(moderation=Run.Moderation.PENDING).order_by("completed_at")
    ids = list(held.values_list("pk", flat=True))
    if not ids:
        yield ok("runs.moderation", "No video is waiting for review.")
        return
    oldest = held.values_list("completed_at", "created_at").first()
    assert oldest is not None
    waited = (now - (oldest[0] or oldest[1])).total_seconds()
    yield Finding(
        "runs.moderation",
        Severity.WARNING,
        f"{len(ids)} video(s) flagged NSFW wait for review; the oldest for {age(waited)}.",
        todo=f"Approve or reject each in the review queue: {admin_page(REVIEW_QUEUE)}",
        count=len(ids),
        items=shown(ids),
        details={"oldest_wait_seconds": int(waited)},
    )


def runs_section(context: Context) -> Section:
    findings = (
        *_stuck(context.now),
        *_flagged(context.now),
        *_discrepancies(),
        *_moderation(context.now),
    )
    return Section(name="runs", title="Runs", findings=findings)
