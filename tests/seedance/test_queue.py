"""Enqueues share one broker per process and broker configuration (django-q2 would make
one, and with Redis a connection, per task); a changed broker setting gets its own."""

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from django_q.conf import Conf

from seedance import queue
from tests.processes import free_port
from tests.queue import queued_tasks

pytestmark = pytest.mark.django_db

RUN_IDS = ("00000000-0000-0000-0000-0000000000a1", "00000000-0000-0000-0000-0000000000a2")


@pytest.fixture
def made(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """Every broker ``seedance.queue`` makes, from an empty cache, on a queue of this test's
    own (other test processes share the broker)."""
    brokers: list[Any] = []
    real = queue.get_broker

    def counted(list_key: str | None = None) -> Any:
        brokers.append(real(list_key))
        return brokers[-1]

    monkeypatch.setattr(Conf, "CLUSTER_NAME", f"test-queue-{uuid.uuid4().hex[:8]}")
    monkeypatch.setattr(queue, "get_broker", counted)
    queue._broker.cache_clear()
    yield brokers
    real().purge_queue()
    queue._broker.cache_clear()


def queued(func: str) -> list[tuple[Any, ...]]:
    return [tuple(task["args"]) for task in queued_tasks() if task["func"] == func]


def test_enqueues_share_one_broker_and_each_task_is_queued(made: list[Any]) -> None:
    for run_id in RUN_IDS:
        queue.enqueue_submit(run_id)
    queue.enqueue_refresh(RUN_IDS[0])
    assert len(made) == 1
    assert queued(queue.SUBMIT_RUN) == [(RUN_IDS[0],), (RUN_IDS[1],)]
    assert queued(queue.REFRESH_RUN) == [(RUN_IDS[0],)]


def test_a_changed_broker_setting_gets_a_new_broker_and_the_old_one_after(
    made: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A broker kept across a settings swap sent tasks to the wrong place (reverted af6ae7e)."""
    queue.enqueue_submit(RUN_IDS[0])
    with monkeypatch.context() as swapped:
        swapped.setattr(Conf, "ORM", None)
        swapped.setattr(Conf, "DJANGO_REDIS", None)
        swapped.setattr(Conf, "REDIS", f"redis://127.0.0.1:{free_port()}/0")
        with pytest.raises(redis.exceptions.ConnectionError):
            queue.enqueue_submit(RUN_IDS[1])
    queue.enqueue_submit(RUN_IDS[1])
    assert len(made) == 2
    assert queued(queue.SUBMIT_RUN) == [(RUN_IDS[0],), (RUN_IDS[1],)]


def test_another_queue_name_gets_a_broker_of_its_own(
    made: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    queue.enqueue_submit(RUN_IDS[0])
    with monkeypatch.context() as renamed:
        renamed.setattr(Conf, "CLUSTER_NAME", f"{Conf.CLUSTER_NAME}-other")
        queue.enqueue_submit(RUN_IDS[1])
        assert queued(queue.SUBMIT_RUN) == [(RUN_IDS[1],)]
        made[-1].purge_queue()
    assert len(made) == 2
    assert queued(queue.SUBMIT_RUN) == [(RUN_IDS[0],)]
