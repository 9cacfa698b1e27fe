"""django-q2 entry points for billing; thin and idempotent, paths checked at startup."""

from django_q.tasks import async_task

from billing import autoprovision, meters
from billing.stripe_client import stripe_client

PUSH_USAGE = "billing.tasks.push_usage"
PROVISION_DUE = "billing.tasks.provision_due"
TASK_PATHS = (PUSH_USAGE, PROVISION_DUE)


def enqueue_push() -> None:
    async_task(PUSH_USAGE, task_name="push-usage", group="billing.push")


def enqueue_provision() -> None:
    async_task(PROVISION_DUE, task_name="provision-due", group="billing.provision")


def push_usage() -> str:
    return str(meters.push_pending_usage())


def provision_due() -> str:
    return str(autoprovision.provision_due_tenants(stripe_client()))
