"""What sits on the configured django-q2 broker (ORM or Redis), decoded.

Counting submits for one run id, rather than the queue's length, keeps these checks
exact while other test processes share the broker. A payload this run's SECRET_KEY cannot
verify was left on a shared Redis by an earlier run (each `make test` makes its own key), so
it is none of ours and is skipped.
"""

from typing import Any
from uuid import UUID

from django_q.brokers import get_broker
from django_q.models import OrmQ
from django_q.signing import BadSignature, SignedPackage

from seedance.queue import SUBMIT_RUN


def queued_tasks() -> list[dict[str, Any]]:
    broker = get_broker()
    if type(broker).__name__ == "Redis":
        payloads = broker.connection.lrange(broker.list_key, 0, -1)
    else:
        payloads = list(OrmQ.objects.filter(key=broker.list_key).values_list("payload", flat=True))
    tasks = []
    for payload in payloads:
        try:
            tasks.append(SignedPackage.loads(payload))
        except BadSignature:
            continue
    return tasks


def queued_submits(run_id: UUID | str) -> int:
    return sum(
        1
        for task in queued_tasks()
        if task["func"] == SUBMIT_RUN and tuple(task["args"]) == (str(run_id),)
    )
