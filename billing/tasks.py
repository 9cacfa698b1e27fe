"""django-q2 entry points for billing; thin and idempotent, paths checked at startup."""

from django_q.tasks import async_task

from billing import meters

PUSH_USAGE = "billing.tasks.push_usage"
TASK_PATHS = (PUSH_USAGE,)


def enqueue_push() -> None:
    async_task(PUSH_USAGE, task_name="push-usage", group="billing.push")


def push_usage() -> str:
    return str(meters.push_pending_usage())
