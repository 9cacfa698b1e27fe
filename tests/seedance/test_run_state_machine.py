"""Any sequence of what can happen to runs ends each in one terminal state, applied once and
billed at most once (hypothesis stateful; profiles in tests/conftest.py).

The rules are what the world does: Runflow's engine moves its runs (the in-process sandbox,
``tests.seedance.runflow_world``), Runflow posts callbacks (signed, duplicated, stale,
contradicting, before the create's answer), the tenant creates, reads and cancels runs
through the API, the dispatcher's tasks run late, out of order and twice, the sweep and the
reconciler poll (at any moment, past the deadline and the hard limit too), copies land or
fail for good, and staff approve or reject held videos. Every step is followed by the
invariants: statuses move only along ``seedance.states.TRANSITIONS``; a terminal run never
changes; each finish is applied once (one ``run_finished``, one tenant webhook event for
what the tenant is shown); each run has at most one usage row, none billed unless the
tenant can fetch it as succeeded, and exactly one billed when they can; no request 500s.
"""

import json
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import transaction
from django.test import TestCase
from django.utils import timezone
from django.utils.module_loading import import_string
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from rest_framework.test import APIClient

from billing.models import RunCharge, UsageRecord
from seedance import queue
from seedance.conf import setting
from seedance.models import InboundDelivery, Run, Tenant, WebhookEvent
from seedance.moderation import run_approve, run_reject
from seedance.services.keys import api_key_issue
from seedance.services.reconcile import reconcile_lost_creates, reconcile_runs
from seedance.services.status_sweep import status_sweep
from seedance.signals import run_finished
from seedance.states import TRANSITIONS, Delivery, RunStatus
from tests.factories import SYSTEM
from tests.seedance.runflow_world import MediaSource, RunflowWorld, callback_headers

pytestmark = pytest.mark.django_db

Moderation = Run.Moderation
TERMINAL_EVENTS = ("run.succeeded", "run.failed", "run.canceled")
RUN_BODY = {"prompt": "a paper boat on a puddle", "duration": "4", "resolution": "480p"}
MAX_RUNS = 2
#: Steps per example: enough for a run's whole life, twice, with news out of order.
STEPS = 30
#: A callback may name any status: Runflow's own words, a stale one, or a contradiction.
CALLBACK_STATUSES = ("succeeded", "failed", "canceled", "running")
#: Who asks Runflow, and when: mostly now, sometimes past the deadline or the hard limit.
POLLS = ("reconcile", "sweep", "lost_creates")
RECONCILE_AT = ("now", "now", "past_deadline", "past_hard_limit")


def _terminal_shown(body: dict[str, Any]) -> bool:
    """The tenant is shown an end, and not one moderation withholds."""
    return body["status"] in RunStatus.terminal() and not (
        body["status"] == RunStatus.SUCCEEDED and body["moderation"] in ("pending", "rejected")
    )


class RunLifecycle(RuleBasedStateMachine):
    """One tenant's runs against one Runflow; ``World`` holds what outlives an example."""

    world: RunflowWorld
    media: MediaSource
    finished: list[str]

    runs = Bundle("runs")

    def __init__(self) -> None:
        super().__init__()
        # Each example in its own savepoint, rolled back at teardown.
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        try:
            self._set_up()
        except BaseException:
            self._roll_back()
            raise

    def _set_up(self) -> None:
        self.world.reset()
        self.finished.clear()
        self.tasks: list[tuple[str, tuple[Any, ...]]] = []
        self.world.enqueue = self.tasks.append
        self.tenant = Tenant.objects.create(slug="acme", name="Acme")
        self.api = APIClient()
        secret = api_key_issue(tenant=self.tenant, name="machine", actor=SYSTEM).secret
        self.api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
        self.staff = User.objects.create_user("reviewer", is_staff=True)
        endpoint = self.api.post(
            "/api/v1/webhooks/endpoints",
            {"url": "http://127.0.0.1:9/hooks", "events": list(self._subscribed())},
            format="json",
        )
        assert endpoint.status_code == 201, endpoint.content
        #: Each run's statuses as seen after every step, and its terminal fields once set.
        self.seen: dict[str, str] = {}
        self.settled: dict[str, tuple[Any, ...]] = {}
        self.shown_end: dict[str, str] = {}
        #: Every callback body posted for a run, with its repeats.
        self.bodies: dict[str, Counter[bytes]] = {}

    @staticmethod
    def _subscribed() -> tuple[str, ...]:
        from seedance.webhooks.events import EVENT_TYPES

        return tuple(name for name in EVENT_TYPES if name.startswith("run."))

    def _step(self, action: Any, *args: Any, **kwargs: Any) -> Any:
        """One thing happening, its on-commit work run as a commit would run it."""
        with TestCase.captureOnCommitCallbacks(execute=True):
            return action(*args, **kwargs)

    def _ok(self, response: Any) -> Any:
        assert response.status_code < 500, response.content[:300]
        return response

    # --- the tenant ----------------------------------------------------------------------

    @initialize(target=runs)
    def first_run(self) -> str:
        return self.create_run()

    @precondition(lambda self: len(self.seen) < MAX_RUNS)
    @rule(target=runs)
    def create_run(self) -> str:
        response = self._ok(self._step(self.api.post, "/api/v1/runs", RUN_BODY, format="json"))
        assert response.status_code == 201, response.content
        run_id = str(response.json()["id"])
        self.seen[run_id] = RunStatus.QUEUED
        self.bodies[run_id] = Counter()
        return run_id

    @rule(run_id=runs, cancel=st.sampled_from((False, False, True)))
    def tenant_calls_the_api(self, run_id: str, cancel: bool) -> None:
        """Mostly reads; now and then a cancel, at any point of the run's life."""
        if cancel:
            self.api_cancel(run_id)
        else:
            self.api_get(run_id)

    def api_get(self, run_id: str) -> None:
        response = self._ok(self._step(self.api.get, f"/api/v1/runs/{run_id}"))
        assert response.status_code == 200
        body = response.json()
        if run_id in self.shown_end:
            assert body["status"] == self.shown_end[run_id], "a shown end changed"
        if _terminal_shown(body):
            self.shown_end[run_id] = body["status"]
            usage = UsageRecord.objects.filter(run_id=run_id).exclude(
                push_state=UsageRecord.PushState.VOIDED
            )
            if body["status"] == RunStatus.SUCCEEDED:
                assert body["output"]["outputs"][0]["url"]
                assert usage.count() == 1, "fetchable as succeeded, billed exactly once"
                assert usage.get().amount > 0
            else:
                assert not usage.exists(), f"{body['status']} run billed"

    def api_cancel(self, run_id: str) -> None:
        response = self._ok(self._step(self.api.post, f"/api/v1/runs/{run_id}/cancel"))
        assert response.status_code in (200, 409), response.content
        if response.status_code == 200:
            assert response.json()["status"] == RunStatus.CANCELED

    # --- Runflow -------------------------------------------------------------------------

    def _at_runflow(self) -> bool:
        return bool(self.world.in_progress())

    @precondition(_at_runflow)
    @rule(data=st.data())
    def runflow_starts(self, data: st.DataObject) -> None:
        self.world.upstream_start(data.draw(st.sampled_from(self.world.in_progress())))

    @precondition(_at_runflow)
    @rule(
        data=st.data(),
        status=st.sampled_from(("succeeded", "failed", "canceled")),
        nsfw=st.sampled_from((False, True, None)),
        fetchable=st.booleans(),
    )
    def runflow_ends(
        self, data: st.DataObject, status: str, nsfw: bool | None, fetchable: bool
    ) -> None:
        """Runflow ends a run; a success's video may be flagged, unchecked, or gone
        before we copy it."""
        run_id = data.draw(st.sampled_from(self.world.in_progress()))
        url = self.media.url(run_id, fetchable)
        self.world.upstream_finish(run_id, status, nsfw_detected=nsfw, url=url)

    @rule(run_id=runs, status=st.sampled_from(CALLBACK_STATUSES), truthful=st.booleans())
    def runflow_calls_back(self, run_id: str, status: str, truthful: bool) -> None:
        """A signed callback: Runflow's own news, or any status at all (stale, contradicting,
        for a run whose create answer we never got)."""
        body = self.world.callback_body(run_id, None if truthful else status)
        self._post_callback(run_id, json.dumps(body).encode())

    @precondition(lambda self: any(self.bodies.values()))
    @rule(data=st.data())
    def runflow_repeats_a_callback(self, data: st.DataObject) -> None:
        sent = sorted((run_id, body) for run_id, bodies in self.bodies.items() for body in bodies)
        run_id, body = data.draw(st.sampled_from(sent))
        self._post_callback(run_id, body)

    def _post_callback(self, run_id: str, body: bytes) -> None:
        response = self._ok(
            self._step(
                APIClient().post,
                f"/hooks/runflow/runs/{run_id}/",
                data=body,
                content_type="application/json",
                headers=callback_headers(body),
            )
        )
        assert response.status_code in (200, 409), response.content
        self.bodies[run_id][body] += 1

    @rule(down=st.integers(min_value=1, max_value=3))
    def runflow_unavailable(self, down: int) -> None:
        """Runflow's next reads answer 503 (each client retries, then gives up)."""
        self.world.fail_reads(down * int(setting("RUNFLOW_MAX_ATTEMPTS")))

    # --- our workers ---------------------------------------------------------------------

    @precondition(lambda self: bool(self.tasks))
    @rule(data=st.data(), again=st.booleans())
    def worker_runs_a_task(self, data: st.DataObject, again: bool) -> None:
        """Any queued task, in any order; ``again`` leaves it queued (at-least-once)."""
        index = data.draw(st.integers(min_value=0, max_value=len(self.tasks) - 1))
        path, args = self.tasks[index] if again else self.tasks.pop(index)
        self._step(import_string(path), *args)

    @rule(poll=st.sampled_from(POLLS), when=st.sampled_from(RECONCILE_AT))
    def runflow_is_polled(self, poll: str, when: str) -> None:
        """The status sweep, the reconciler, or its lost-create pass, at any moment."""
        client = self.world.client()
        if poll == "sweep":
            self._step(status_sweep, now=self._moment(when), client=client)
        elif poll == "reconcile":
            self._step(reconcile_runs, now=self._moment(when), client=client)
        else:
            self._step(reconcile_lost_creates, now=self._moment(when), client=client)

    def _moment(self, when: str) -> Any:
        now = timezone.now()
        if when == "past_deadline":
            return now + timedelta(seconds=int(setting("RUN_DEADLINE_SECONDS")) + 60)
        if when == "past_hard_limit":
            return now + timedelta(seconds=int(setting("RUN_HARD_LIMIT_SECONDS")) + 60)
        return now

    # --- staff ---------------------------------------------------------------------------

    def _held(self) -> list[str]:
        held = Run.objects.filter(pk__in=list(self.seen), moderation=Moderation.PENDING)
        return sorted(str(pk) for pk in held.values_list("pk", flat=True))

    @precondition(lambda self: bool(self._held()))
    @rule(data=st.data(), approve=st.booleans())
    def staff_decides(self, data: st.DataObject, approve: bool) -> None:
        decide = run_approve if approve else run_reject
        run_id = data.draw(st.sampled_from(self._held()))
        self._step(decide, run_id=run_id, decided_by=self.staff)

    # --- invariants ----------------------------------------------------------------------

    @invariant()
    def statuses_move_only_along_the_state_machine(self) -> None:
        for run in Run.objects.filter(pk__in=list(self.seen)):
            key = str(run.pk)
            before = self.seen[key]
            assert run.status == before or run.status in TRANSITIONS[before], (
                f"{before} -> {run.status}"
            )
            self.seen[key] = run.status
            if run.is_terminal:
                fields = (run.status, run.completed_at, run.outputs)
                assert self.settled.setdefault(key, fields) == fields, "a terminal run changed"

    @invariant()
    def each_end_is_applied_once(self) -> None:
        finishes = Counter(self.finished)
        for run in Run.objects.filter(pk__in=list(self.seen)):
            assert finishes[str(run.pk)] == (1 if run.is_terminal else 0)
        events = Counter(
            WebhookEvent.objects.filter(run__tenant=self.tenant).values_list("run_id", "type")
        )
        for (run_id, event_type), count in events.items():
            assert count == 1, f"{event_type} recorded {count} times for {run_id}"
        ends = Counter(run_id for (run_id, event_type) in events if event_type in TERMINAL_EVENTS)
        assert max(ends.values(), default=0) <= 1, "two different ends told to the tenant"

    @invariant()
    def each_run_is_billed_at_most_once_and_only_when_fetchable(self) -> None:
        for run in Run.objects.filter(pk__in=list(self.seen)):
            records = list(UsageRecord.objects.filter(run=run))
            charge = RunCharge.objects.get(run=run)
            if run.status != RunStatus.SUCCEEDED:
                assert records == [], f"a {run.status} run has a usage row"
                assert charge.state == RunCharge.State.RELEASED if run.is_terminal else True
                continue
            assert len(records) == 1
            (record,) = records
            fetchable = run.delivery == Delivery.DELIVERED and run.moderation in (
                Moderation.NONE,
                Moderation.APPROVED,
            )
            withdrawn = run.delivery == Delivery.UNAVAILABLE or (
                run.moderation == Moderation.REJECTED
            )
            billed = record.push_state != UsageRecord.PushState.VOIDED
            if fetchable:
                assert record.push_state == UsageRecord.PushState.PENDING
                assert charge.state == RunCharge.State.SETTLED
                assert charge.amount > 0
            if withdrawn:
                assert not billed, "an undelivered or rejected run is billed"
                assert charge.state == RunCharge.State.RELEASED
                assert charge.amount == 0
            if billed and record.push_state == UsageRecord.PushState.PENDING:
                assert fetchable, "pushable before the tenant can fetch it"

    @invariant()
    def each_callback_is_recorded_once(self) -> None:
        for run_id, bodies in self.bodies.items():
            records = InboundDelivery.objects.filter(source="runflow", subject=run_id)
            assert records.count() == len(bodies)
            replays = sum(records.values_list("replays", flat=True))
            assert replays == sum(bodies.values()) - len(bodies)

    def teardown(self) -> None:
        """Runflow ends every run and the workers catch up: each run then has its one end."""
        try:
            if self.seen and not self._failed():
                self._settle()
        finally:
            self._roll_back()

    def _roll_back(self) -> None:
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    def _failed(self) -> bool:
        return transaction.get_connection().needs_rollback

    def _settle(self) -> None:
        self.world.clear_faults()
        for when in ("now", "now", "past_deadline", "past_hard_limit"):
            self._drain()
            for run_id in self.world.in_progress():
                self.world.upstream_finish(run_id, "succeeded", url=self.media.url(run_id, True))
            self._step(reconcile_runs, now=self._moment(when), client=self.world.client())
        self._drain()
        self.statuses_move_only_along_the_state_machine()
        self.each_end_is_applied_once()
        self.each_run_is_billed_at_most_once_and_only_when_fetchable()
        self.each_callback_is_recorded_once()
        for run in Run.objects.filter(pk__in=list(self.seen)):
            assert run.is_terminal, f"run {run.pk} stayed {run.status}"
            assert run.delivery != Delivery.PENDING or run.status != RunStatus.SUCCEEDED
            self.api_get(str(run.pk))
            body = self.api.get(f"/api/v1/runs/{run.pk}").json()
            told = WebhookEvent.objects.filter(run=run, type__in=TERMINAL_EVENTS)
            expected = [f"run.{body['status']}"] if _terminal_shown(body) else []
            assert list(told.values_list("type", flat=True)) == expected

    def _drain(self) -> None:
        for _ in range(50):
            if not self.tasks:
                return
            path, args = self.tasks.pop(0)
            self._step(import_string(path), *args)
        raise AssertionError(f"tasks never drained: {self.tasks[:5]}")


@pytest.fixture
def runflow_world(tmp_path: Any) -> Iterator[RunflowWorld]:
    world = RunflowWorld(tmp_path / "sandbox-media")
    yield world
    world.close()


@pytest.fixture(scope="session")
def media_source() -> Iterator[MediaSource]:
    with MediaSource() as source:
        yield source


@pytest.fixture
def machine_settings(settings: Any, runflow_world: RunflowWorld, media_source: MediaSource) -> None:
    """The reconciler acts at once; rejected videos are not billed; held unchecked ones too."""
    settings.SEEDANCE = {
        **settings.SEEDANCE,
        "API_CREATE_RATE": "off",
        "API_READ_RATE": "off",
        "RECONCILE_QUEUED_AFTER_SECONDS": 0,
        "RECONCILE_POLL_AFTER_SECONDS": 0,
        "BILL_REJECTED": False,
        "OUTBOUND_LOOPBACK_HTTP": ["127.0.0.1:9", media_source.netloc],
        "RUNFLOW_BASE_URL": runflow_world.base_url,
    }


def test_any_sequence_ends_each_run_once_in_one_state_billed_at_most_once(
    machine_settings: None,
    runflow_world: RunflowWorld,
    media_source: MediaSource,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    finished: list[str] = []
    run_finished.connect(
        lambda sender, run, **kwargs: finished.append(str(run.pk)),
        weak=False,
        dispatch_uid="run-state-machine",
    )
    runflow_world.patch(monkeypatch, queue)
    RunLifecycle.world = runflow_world
    RunLifecycle.media = media_source
    RunLifecycle.finished = finished
    try:
        run_state_machine_as_test(
            RunLifecycle,
            settings=hypothesis_settings(hypothesis_settings.default, stateful_step_count=STEPS),
        )
    finally:
        run_finished.disconnect(dispatch_uid="run-state-machine")
