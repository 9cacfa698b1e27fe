"""The periodic work, created idempotently by name (a data migration and `make demo` call it)."""

from django_q.models import Schedule

from seedance.queue import PURGE_OUTPUTS, PURGE_WEBHOOK_LOG, RECONCILE_RUNS

RECONCILE_SCHEDULE = "seedance.reconcile-runs"
PURGE_SCHEDULE = "seedance.purge-outputs"
PURGE_WEBHOOK_LOG_SCHEDULE = "seedance.purge-webhook-log"


def ensure_schedules(schedule_model: type[Schedule] = Schedule) -> None:
    schedule_model.objects.update_or_create(
        name=RECONCILE_SCHEDULE,
        defaults={
            "func": RECONCILE_RUNS,
            "schedule_type": Schedule.MINUTES,
            "minutes": 1,
            "repeats": -1,
        },
    )
    schedule_model.objects.update_or_create(
        name=PURGE_SCHEDULE,
        defaults={"func": PURGE_OUTPUTS, "schedule_type": Schedule.HOURLY, "repeats": -1},
    )
    schedule_model.objects.update_or_create(
        name=PURGE_WEBHOOK_LOG_SCHEDULE,
        defaults={"func": PURGE_WEBHOOK_LOG, "schedule_type": Schedule.HOURLY, "repeats": -1},
    )
