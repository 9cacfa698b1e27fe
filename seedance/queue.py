"""Waking work up: enqueue functions and task paths. The database, not the queue, is the
truth, so everything enqueued here is also found again by a scheduled task.

Task paths are constants, checked by ``seedance.checks``, because django-q2 resolves a
dotted path only when the task runs and a typo would fail silently in the worker.
"""

from datetime import datetime
from uuid import UUID

from django_q.tasks import async_task

SUBMIT_RUN = "seedance.tasks.submit_run"
RECONCILE_RUNS = "seedance.tasks.reconcile_runs"
COPY_OUTPUTS = "seedance.tasks.copy_outputs"
PURGE_OUTPUTS = "seedance.tasks.purge_outputs"
REFRESH_RUN = "seedance.tasks.refresh_run"
DELIVER_WEBHOOK = "seedance.tasks.deliver_webhook"
PURGE_WEBHOOK_LOG = "seedance.tasks.purge_webhook_log"
SWEEP_STATUSES = "seedance.tasks.sweep_statuses"
TASK_PATHS = (
    SUBMIT_RUN,
    RECONCILE_RUNS,
    COPY_OUTPUTS,
    PURGE_OUTPUTS,
    REFRESH_RUN,
    DELIVER_WEBHOOK,
    PURGE_WEBHOOK_LOG,
    SWEEP_STATUSES,
)


def enqueue_submit(run_id: UUID | str) -> None:
    async_task(SUBMIT_RUN, str(run_id), task_name=f"submit-{run_id}", group="seedance.submit")


def enqueue_copy(run_id: UUID | str) -> None:
    async_task(COPY_OUTPUTS, str(run_id), task_name=f"copy-{run_id}", group="seedance.copy")


def enqueue_refresh(run_id: UUID | str) -> None:
    """Ask Runflow about a run (after a callback woke it, or a recheck fell due)."""
    async_task(REFRESH_RUN, str(run_id), task_name=f"refresh-{run_id}", group="seedance.refresh")


def enqueue_webhook_delivery(delivery_id: int, lease: datetime) -> None:
    """One attempt of a webhook delivery, valid only while ``lease`` is still its booking."""
    async_task(
        DELIVER_WEBHOOK,
        delivery_id,
        lease.isoformat(),
        task_name=f"webhook-{delivery_id}",
        group="seedance.webhooks",
    )


def enqueue_status_sweep() -> None:
    async_task(SWEEP_STATUSES, task_name="status-sweep", group="seedance.sweep")
