"""Billing's periodic work, created idempotently by name."""

from django_q.models import Schedule

from billing.tasks import CHECK_METER_ERRORS, PUSH_USAGE, RECONCILE

PUSH_SCHEDULE = "billing.push-usage"
RECONCILE_SCHEDULE = "billing.reconcile"
METER_ERRORS_SCHEDULE = "billing.check-meter-errors"


def ensure_schedules(schedule_model: type[Schedule] = Schedule) -> None:
    for name, func, minutes in (
        (PUSH_SCHEDULE, PUSH_USAGE, 1),
        (RECONCILE_SCHEDULE, RECONCILE, 15),
        (METER_ERRORS_SCHEDULE, CHECK_METER_ERRORS, 1),
    ):
        schedule_model.objects.update_or_create(
            name=name,
            defaults={
                "func": func,
                "schedule_type": Schedule.MINUTES,
                "minutes": minutes,
                "repeats": -1,
            },
        )
