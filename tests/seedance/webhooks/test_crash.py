"""A worker killed with SIGKILL in the middle of an attempt loses nothing: its lease runs
out, the dispatcher sends again with the same webhook-id, and the log shows both."""

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from seedance.models import WebhookAttempt, WebhookDelivery, WebhookEvent
from seedance.webhooks.delivery import INTERRUPTED, deliveries_claim_due
from seedance.webhooks.events import webhook_event_record
from tests.billing.test_push_crash import database_url
from tests.processes import ROOT
from tests.seedance.webhooks.conftest import Answer, ReceiverServer, deliver_due, subscribe


def worker(receiver: ReceiverServer, delivery_id: int, lease: str) -> subprocess.Popen[bytes]:
    """The task as a qcluster worker runs it, in a process of its own."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "SEEDANCE_OUTBOUND_LOOPBACK_HTTP": receiver.netloc,
        "SEEDANCE_WEBHOOK_TIMEOUT_SECONDS": "3",
    }
    code = f"from seedance.tasks import deliver_webhook; deliver_webhook({delivery_id}, {lease!r})"
    return subprocess.Popen([sys.executable, "manage.py", "shell", "-c", code], cwd=ROOT, env=env)


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_attempt_loses_nothing(tenant: Any, receiver: ReceiverServer) -> None:
    subscribe(tenant, receiver, ["usage.cap.warning"])
    webhook_event_record(tenant, "usage.cap.warning", data={"percent": 80})
    event = WebhookEvent.objects.get()
    receiver.answer_next(Answer(200, delay=8))  # the app is slow: the worker dies waiting
    [(delivery_id, lease)] = deliveries_claim_due(timezone.now())

    process = worker(receiver, delivery_id, lease.isoformat())
    deadline = time.monotonic() + 60
    while not receiver.arrived:
        assert time.monotonic() < deadline, "the worker never sent the attempt"
        assert process.poll() is None, "the worker ended before it could be killed"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()

    delivery = WebhookDelivery.objects.get()
    assert (delivery.state, delivery.attempts) == ("pending", 1)
    assert WebhookAttempt.objects.get().error == INTERRUPTED
    # Not due while the dead worker's attempt could still be under way ...
    assert deliver_due(timezone.now()) == []
    # ... then sent again once its lease (timeout + margin) has run out.
    assert deliver_due(timezone.now() + timedelta(seconds=34)) == ["delivered"]

    assert receiver.arrived == [event.id, event.id]
    assert receiver.handled == [event.id]
    log = list(
        WebhookAttempt.objects.order_by("number").values_list("number", "status_code", "error")
    )
    assert log == [(1, None, INTERRUPTED), (2, 200, "")]
