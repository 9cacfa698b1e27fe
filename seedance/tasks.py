"""django-q2 entry points. Thin: each loads by id and calls one service; all are idempotent."""

from datetime import datetime

from seedance import outputs
from seedance.compat import callbacks as compat_callbacks
from seedance.services import callbacks, reconcile, status_sweep, submission
from seedance.webhooks import delivery, retention


def submit_run(run_id: str) -> None:
    submission.run_submit(run_id)


def reconcile_runs() -> str:
    return str(reconcile.reconcile_runs())


def copy_outputs(run_id: str) -> int:
    return outputs.outputs_copy(run_id)


def purge_outputs() -> int:
    return outputs.outputs_purge_expired()


def refresh_run(run_id: str) -> bool:
    return callbacks.run_refresh(run_id)


def deliver_webhook(delivery_id: int, lease: str) -> str:
    return delivery.delivery_attempt(delivery_id, datetime.fromisoformat(lease))


def send_callback(callback_id: int, lease: str) -> str:
    return compat_callbacks.callback_attempt(callback_id, datetime.fromisoformat(lease))


def purge_webhook_log() -> int:
    return retention.webhook_log_purge()


def sweep_statuses() -> str:
    return f"{status_sweep.status_sweep()} {reconcile.reconcile_lost_creates()}"
