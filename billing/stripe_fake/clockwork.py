"""Stripe's work that happens after the answer: closing periods, reporting errors, delivering.

``tick`` runs under the store lock before every request and on the fake's background thread;
``deliver`` sends what is due outside the lock, so a slow receiver never blocks the API.
"""

from . import checkout, delivery, invoices, reports, thin_events
from .store import Store


def tick(store: Store, *, force: bool = False) -> None:
    with store.lock:
        invoices.close_due_periods(store)
        checkout.expire_due_sessions(store)
        events = reports.report_due_errors(store, force=force)
        thin_events.queue_deliveries(store, events)


def deliver(store: Store, *, force: bool = False) -> int:
    """Try every due delivery once; the number tried."""
    with store.lock:
        attempts = delivery.due(store, force=force)
    for attempt in attempts:
        status = delivery.send(attempt)
        with store.lock:
            delivery.settle(store, attempt, status)
    return len(attempts)
