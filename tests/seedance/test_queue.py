"""Enqueues share one broker per process (django-q2 would make one, and with Redis a
connection, per task), and every task still lands in the queue."""

from typing import Any

import pytest
from django_q.brokers import get_broker

from seedance import queue

pytestmark = pytest.mark.django_db


def test_enqueues_share_one_broker_and_each_task_is_queued(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[Any] = []

    def counted(list_key: str | None = None) -> Any:
        broker = get_broker(list_key)
        made.append(broker)
        return broker

    queue._broker.cache_clear()
    monkeypatch.setattr(queue, "get_broker", counted)
    try:
        broker = queue._broker(queue.Conf.CLUSTER_NAME)
        broker.purge_queue()
        for run_id in (
            "00000000-0000-0000-0000-000000000001",
            "00000000-0000-0000-0000-000000000002",
        ):
            queue.enqueue_submit(run_id)
        queue.enqueue_refresh("00000000-0000-0000-0000-000000000003")
        assert len(made) == 1
        assert broker.queue_size() == 3
        broker.purge_queue()
    finally:
        queue._broker.cache_clear()
