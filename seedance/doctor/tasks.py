"""The tasks section: django-q2's failed tasks and its broker's queue.

Tasks are idempotent and the database is the truth (``seedance.queue``): a lost or failed
one-off task is found again by the reconciler or the dispatcher, so it is a warning; a
failed scheduled task means that job did not run at all, so it is a problem.
"""

from collections.abc import Iterator
from datetime import datetime, timedelta

from django.db.models import Count, Max
from django_q.brokers import get_broker
from django_q.models import Failure, Schedule

from seedance.doctor.findings import Context, Finding, Section, Severity, admin_page, ok

#: How far back failed tasks are reported.
FAILED_TASKS_WINDOW = timedelta(hours=24)
#: Tasks waiting in the broker beyond which the workers are not keeping up.
QUEUE_DEPTH_WARNING = 100


def _failed_tasks(now: datetime) -> Iterator[Finding]:
    recent = (
        Failure.objects.filter(stopped__gte=now - FAILED_TASKS_WINDOW)
        .order_by()
        .values("func")
        .annotate(n=Count("pk"), last=Max("stopped"))
        .order_by("-last")
    )
    if not recent:
        yield ok("tasks.failed", "No task failed in the last 24 h.")
        return
    scheduled = set(Schedule.objects.values_list("func", flat=True))
    items = tuple(
        f"{row['func']} x{row['n']} (last {row['last']:%Y-%m-%d %H:%M} UTC)" for row in recent
    )
    total = sum(row["n"] for row in recent)
    failed_schedules = sorted({row["func"] for row in recent} & scheduled)
    yield Finding(
        "tasks.failed",
        Severity.PROBLEM if failed_schedules else Severity.WARNING,
        f"{total} task(s) failed in the last 24 h"
        + (
            f", scheduled jobs among them ({', '.join(failed_schedules)})."
            if failed_schedules
            else "."
        ),
        todo=(
            "Read each traceback in admin > Django Q > Failed tasks "
            f"({admin_page('admin:django_q_failure_changelist')}) and fix the cause: the "
            "work itself is found again from the database (reconciler, dispatcher, usage push)."
        ),
        count=total,
        items=items,
        details={"scheduled": failed_schedules},
    )


def _queue() -> Iterator[Finding]:
    try:
        depth = int(get_broker().queue_size() or 0)
    except Exception as error:
        yield Finding(
            "tasks.broker",
            Severity.PROBLEM,
            f"django-q2's broker did not answer: {type(error).__name__}: {error}",
            todo="Check REDIS_URL and the Redis server; `GET /health/ready` says the same.",
        )
        return
    if depth > QUEUE_DEPTH_WARNING:
        yield Finding(
            "tasks.queue",
            Severity.WARNING,
            f"{depth} task(s) wait in the broker's queue: the workers are not keeping up.",
            todo="Check that qcluster workers run (`manage.py qcluster`); add workers (Q_WORKERS).",
            count=depth,
        )
    else:
        yield Finding(
            "tasks.queue", Severity.OK, f"{depth} task(s) wait in the queue.", count=depth
        )


def tasks_section(context: Context) -> Section:
    return Section(
        name="tasks",
        title="Tasks and queue",
        findings=(*_failed_tasks(context.now), *_queue()),
    )
