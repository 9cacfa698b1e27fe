"""Billing's periodic work, created idempotently by name."""

from django_q.models import Schedule

from billing.tasks import PUSH_USAGE

PUSH_SCHEDULE = "billing.push-usage"


def ensure_schedules(schedule_model: type[Schedule] = Schedule) -> None:
    schedule_model.objects.update_or_create(
        name=PUSH_SCHEDULE,
        defaults={
            "func": PUSH_USAGE,
            "schedule_type": Schedule.MINUTES,
            "minutes": 1,
            "repeats": -1,
        },
    )
