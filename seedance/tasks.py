"""django-q2 entry points. Thin: each loads by id and calls one service; all are idempotent.

Task paths are constants, checked by ``seedance.checks``, because django-q2 resolves a
dotted path only when the task runs and a typo would fail silently in the worker.
"""

from uuid import UUID

from django_q.tasks import async_task

from seedance.services import reconcile, submission

SUBMIT_RUN = "seedance.tasks.submit_run"
RECONCILE_RUNS = "seedance.tasks.reconcile_runs"
TASK_PATHS = (SUBMIT_RUN, RECONCILE_RUNS)


def enqueue_submit(run_id: UUID | str) -> None:
    async_task(SUBMIT_RUN, str(run_id), task_name=f"submit-{run_id}", group="seedance.submit")


def submit_run(run_id: str) -> None:
    submission.run_submit(run_id)


def reconcile_runs() -> str:
    return str(reconcile.reconcile_runs())
