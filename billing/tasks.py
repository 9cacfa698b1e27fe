"""django-q2 entry points for billing; thin and idempotent, paths checked at startup."""

from django_q.tasks import async_task

from billing import autoprovision, meter_error_check, meters, reconcile
from billing.conf import stripe_enabled
from billing.stripe_client import stripe_client

PUSH_USAGE = "billing.tasks.push_usage"
PROVISION_DUE = "billing.tasks.provision_due"
RECONCILE = "billing.tasks.reconcile_billing"
CHECK_METER_ERRORS = "billing.tasks.check_meter_errors"
TASK_PATHS = (PUSH_USAGE, PROVISION_DUE, RECONCILE, CHECK_METER_ERRORS)


def enqueue_push() -> None:
    async_task(PUSH_USAGE, task_name="push-usage", group="billing.push")


def enqueue_provision() -> None:
    async_task(PROVISION_DUE, task_name="provision-due", group="billing.provision")


def push_usage() -> str:
    return str(meters.push_pending_usage())


def provision_due() -> str:
    return str(autoprovision.provision_due_tenants(stripe_client()))


def reconcile_billing() -> str:
    if not stripe_enabled():
        return "Stripe is off: nothing to reconcile"
    return str(reconcile.billing_reconcile(client=stripe_client()))


def check_meter_errors() -> str:
    if not stripe_enabled():
        return "Stripe is off: no error reports to check"
    return str(meter_error_check.meter_error_reports_check(client=stripe_client()))
