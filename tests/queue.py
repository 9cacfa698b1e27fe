"""What sits on the configured django-q2 broker (ORM or Redis), decoded.

Counting submits for one run id, rather than the queue's length, keeps these checks
exact while other test processes share the broker.
"""

from typing import Any
from uuid import UUID

from django_q.brokers import get_broker
from django_q.models import OrmQ
from django_q.signing import SignedPackage

from seedance.queue import SUBMIT_RUN


def queued_tasks() -> list[dict[str, Any]]:
    broker = get_broker()
    if type(broker).__name__ == "Redis":
        payloads = broker.connection.lrange(broker.list_key, 0, -1)
    else:
        payloads = list(OrmQ.objects.filter(key=broker.list_key).values_list("payload", flat=True))
    return [SignedPackage.loads(payload) for payload in payloads]


def queued_submits(run_id: UUID | str) -> int:
    return sum(
        1
        for task in queued_tasks()
        if task["func"] == SUBMIT_RUN and tuple(task["args"]) == (str(run_id),)
    )
