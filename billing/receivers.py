"""Billing follows seedance's runs through its signal; seedance never imports billing."""

from typing import Any

from django.db import transaction

from billing.conf import stripe_enabled
from billing.ledger import usage_record_for_run
from billing.tasks import enqueue_push
from seedance.models import Run


def on_run_finished(sender: Any, run: Run, **kwargs: Any) -> None:
    """In the terminal transition's transaction: the ledger row commits with the status."""
    record = usage_record_for_run(run)
    if record is not None and stripe_enabled():
        transaction.on_commit(enqueue_push, robust=True)
