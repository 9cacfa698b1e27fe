"""Waking work up: enqueue functions and task paths. The database, not the queue, is the
truth, so everything enqueued here is also found again by a scheduled task.

Task paths are constants, checked by ``seedance.checks``, because django-q2 resolves a
dotted path only when the task runs and a typo would fail silently in the worker.
"""

from datetime import datetime
from functools import lru_cache
from typing import Any
from uuid import UUID

from django_q import tasks
from django_q.brokers import Broker, get_broker
from django_q.conf import Conf

SUBMIT_RUN = "seedance.tasks.submit_run"
RECONCILE_RUNS = "seedance.tasks.reconcile_runs"
COPY_OUTPUTS = "seedance.tasks.copy_outputs"
PURGE_OUTPUTS = "seedance.tasks.purge_outputs"
REFRESH_RUN = "seedance.tasks.refresh_run"
DELIVER_WEBHOOK = "seedance.tasks.deliver_webhook"
SEND_CALLBACK = "seedance.tasks.send_callback"
PURGE_WEBHOOK_LOG = "seedance.tasks.purge_webhook_log"
SWEEP_STATUSES = "seedance.tasks.sweep_statuses"
TASK_PATHS = (
    SUBMIT_RUN,
    RECONCILE_RUNS,
    COPY_OUTPUTS,
    PURGE_OUTPUTS,
    REFRESH_RUN,
    DELIVER_WEBHOOK,
    SEND_CALLBACK,
    PURGE_WEBHOOK_LOG,
    SWEEP_STATUSES,
)


def broker_config() -> tuple[str, str]:
    """Everything django-q2's ``get_broker`` reads to choose and connect a broker: the
    queue's name and each broker setting (a test that swaps one gets a broker of its own)."""
    settings = (
        Conf.BROKER_CLASS,
        Conf.IRON_MQ,
        Conf.SQS,
        Conf.ORM,
        Conf.MONGO,
        Conf.REDIS,
        Conf.DJANGO_REDIS,
    )
    return Conf.CLUSTER_NAME, repr(settings)


@lru_cache(maxsize=8)
def _broker(config: tuple[str, str]) -> Broker:
    """One broker per configuration and process: django-q2 makes one per task, and with
    Redis that is a new client, so a TCP connect and handshake per enqueue. redis-py's
    client is shared by threads and resets its connections after a fork."""
    return get_broker(config[0])


def current_broker() -> Broker:
    """This process's broker for the current settings."""
    return _broker(broker_config())


def async_task(func: str, *args: Any, **kwargs: Any) -> Any:
    """django-q2's ``async_task`` through this process's broker for the current settings."""
    return tasks.async_task(func, *args, broker=current_broker(), **kwargs)


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


def enqueue_callback(callback_id: int, lease: datetime) -> None:
    """One attempt of a run's Runflow-style callback, valid only while ``lease`` holds."""
    async_task(
        SEND_CALLBACK,
        callback_id,
        lease.isoformat(),
        task_name=f"callback-{callback_id}",
        group="seedance.callbacks",
    )


def enqueue_status_sweep() -> None:
    async_task(SWEEP_STATUSES, task_name="status-sweep", group="seedance.sweep")
