"""The tasks section: failed django-q2 tasks of the last day (a scheduled one is a
problem, a one-off a warning) and the broker's queue depth."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.conf import Conf
from django_q.models import Task
from django_q.tasks import async_task

from seedance import queue
from seedance.doctor import tasks as doctor_tasks
from seedance.doctor.findings import Context, Section, Severity
from seedance.doctor.tasks import tasks_section
from seedance.schedules import ensure_schedules
from tests.processes import free_port
from tests.seedance.doctor.helpers import finding, trouble

pytestmark = pytest.mark.django_db


def failed_task(func: str, *, hours_ago: float = 1) -> Task:
    stopped = timezone.now() - timedelta(hours=hours_ago)
    return Task.objects.create(
        id=uuid.uuid4().hex,
        name=f"failed-{uuid.uuid4().hex[:8]}",
        func=func,
        started=stopped - timedelta(seconds=2),
        stopped=stopped,
        success=False,
        result="Traceback (most recent call last): ...",
    )


def section() -> Section:
    return tasks_section(Context(now=timezone.now()))


def test_no_failed_task_and_an_empty_queue_are_ok() -> None:
    Task.objects.create(
        id=uuid.uuid4().hex,
        name="fine",
        func=queue.SUBMIT_RUN,
        started=timezone.now(),
        stopped=timezone.now(),
        success=True,
    )
    assert trouble(section()) == {}


def test_a_failed_one_off_task_is_a_warning_naming_its_function() -> None:
    failed_task(queue.SUBMIT_RUN)
    failed_task(queue.SUBMIT_RUN)
    found = finding(section(), "tasks.failed")
    assert found.severity is Severity.WARNING
    assert found.count == 2
    assert found.items[0].startswith(f"{queue.SUBMIT_RUN} x2 (last ")
    assert "/admin/django_q/failure/" in found.todo


def test_a_failed_scheduled_task_is_a_problem() -> None:
    # Made here: a transactional test before this one may have flushed the migration's.
    ensure_schedules()
    failed_task(queue.RECONCILE_RUNS)
    found = finding(section(), "tasks.failed")
    assert found.severity is Severity.PROBLEM
    assert found.details == {"scheduled": [queue.RECONCILE_RUNS]}


def test_a_task_that_failed_days_ago_is_no_longer_reported() -> None:
    failed_task(queue.RECONCILE_RUNS, hours_ago=30)
    assert trouble(section()) == {}


def test_a_deep_queue_is_a_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    """A queue of this test's own (another xdist worker may share the Redis list)."""
    monkeypatch.setattr(Conf, "CLUSTER_NAME", f"doctor-{uuid.uuid4().hex[:8]}")
    monkeypatch.setattr(doctor_tasks, "QUEUE_DEPTH_WARNING", 2)
    try:
        for value in (1.5, 2.5):
            async_task("math.floor", value)
        assert finding(section(), "tasks.queue").severity is Severity.OK
        async_task("math.floor", 3.5)
        found = finding(section(), "tasks.queue")
    finally:
        get_broker().purge_queue()
    assert (found.severity, found.count) == (Severity.WARNING, 3)


def test_a_broker_that_does_not_answer_is_a_problem_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """django-q2 pointed at a Redis that is not there (a port nothing listens on)."""
    monkeypatch.setattr(Conf, "ORM", None)
    monkeypatch.setattr(Conf, "DJANGO_REDIS", None)
    monkeypatch.setattr(Conf, "REDIS", f"redis://127.0.0.1:{free_port()}/0")
    found = finding(section(), "tasks.broker")
    assert found.severity is Severity.PROBLEM
    assert "REDIS_URL" in found.todo
