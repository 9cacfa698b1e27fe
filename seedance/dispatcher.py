"""Work due within seconds: one loop that wakes every tick and enqueues what is due.

django-q2's scheduler wakes about every 30 s and has no delayed tasks, so anything due
sooner is found here. Each source in ``DUE_WORK`` claims its due rows in the database
(moving their due time on, so the next tick does not enqueue them again) and enqueues a
task for each; a lost task is found again when its booking falls due.
"""

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime

from django.db import close_old_connections
from django.utils import timezone

from seedance import queue
from seedance.compat.callbacks import callbacks_claim_due
from seedance.conf import setting
from seedance.models import Run
from seedance.services.callbacks import run_book_recheck
from seedance.services.status_sweep import status_sweep_book
from seedance.states import RunStatus
from seedance.webhooks.delivery import deliveries_claim_due

logger = logging.getLogger(__name__)

#: Takes "now", enqueues what is due, returns how many tasks it enqueued.
DueWork = Callable[[datetime], int]

BATCH_SIZE = 200


def due_rechecks(now: datetime) -> int:
    """Runs whose terminal callback Runflow's GET did not confirm yet, due for another ask."""
    due = (
        Run.objects.filter(recheck_at__lte=now, status__in=RunStatus.in_progress())
        .order_by("recheck_at")
        .values_list("pk", "recheck_at")[:BATCH_SIZE]
    )
    enqueued = 0
    for run_id, booked in due:
        # Claimed by moving the booking on: a second dispatcher enqueues it only once.
        if run_book_recheck(run_id, now=now, booked=booked):
            queue.enqueue_refresh(run_id)
            enqueued += 1
    return enqueued


def due_webhook_deliveries(now: datetime) -> int:
    """Webhook attempts due (first tries and retries), each claimed by a lease."""
    claimed = deliveries_claim_due(now)
    for delivery_id, lease in claimed:
        queue.enqueue_webhook_delivery(delivery_id, lease)
    return len(claimed)


def due_callbacks(now: datetime) -> int:
    """Runflow-style callbacks due to tenants' callback URLs, each claimed by a lease."""
    claimed = callbacks_claim_due(now)
    for callback_id, lease in claimed:
        queue.enqueue_callback(callback_id, lease)
    return len(claimed)


def due_status_sweep(now: datetime) -> int:
    """A sweep of Runflow's in-progress runs, once per ``STATUS_SWEEP_SECONDS``."""
    if not status_sweep_book(now):
        return 0
    queue.enqueue_status_sweep()
    return 1


DUE_WORK: list[DueWork] = [due_rechecks, due_webhook_deliveries, due_callbacks, due_status_sweep]


def dispatch_once(now: datetime | None = None) -> int:
    """One tick: every source runs, one's failure never stops the others."""
    now = now or timezone.now()
    enqueued = 0
    for source in DUE_WORK:
        try:
            enqueued += source(now)
        except Exception:
            logger.exception("Dispatcher source %s failed", getattr(source, "__name__", source))
    return enqueued


#: A signal handler's ``stop.set()`` does not end a pending wait early, so wait in slices.
STOP_CHECK_SECONDS = 0.1


def dispatch_forever(stop: threading.Event) -> None:
    """Tick until ``stop`` is set; a tick under way finishes, the wait after it does not."""
    tick = float(setting("DISPATCHER_TICK_SECONDS"))
    while not stop.is_set():
        close_old_connections()
        next_tick = time.monotonic() + tick
        dispatch_once()
        while not stop.is_set() and (left := next_tick - time.monotonic()) > 0:
            stop.wait(min(left, STOP_CHECK_SECONDS))
    close_old_connections()
