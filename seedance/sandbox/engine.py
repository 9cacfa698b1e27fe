"""The run lifecycle: queued, running, then a terminal state on a wall-clock schedule.

``tick`` advances every run whose time has come; it runs on every read and on a
background ticker, so callbacks fire even when nobody polls. Slow work (rendering,
posting callbacks) is started only after the store lock is released.
"""

import math
import random
import time
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

from . import listing
from .callbacks import CallbackDispatcher, DeliveryPlan, payload_for
from .faults import FaultRules, Faults
from .media import OneClip, Renderer, dimensions, seconds
from .store import RunStore, SandboxRun

MODEL_ID = "bytedance/seedance/2.0/fast/text-to-video"
PRICES_PER_SECOND = {"720p": Decimal("0.2419"), "480p": Decimal("0.108")}
COST_PLACES = Decimal("0.000001")

Terminal = tuple[str, dict[str, Any], DeliveryPlan]


class Sandbox:
    """Everything behind the HTTP surface; safe to call from any thread."""

    def __init__(
        self,
        *,
        signing_secret: str | None,
        queued_seconds: float,
        running_seconds: float,
        callback_backoff_scale: float,
        callback_timeout: float,
        cache_dir: Path,
        balance_cents: int,
        one_clip: bool = False,
    ) -> None:
        self.store = RunStore(model_id=MODEL_ID)
        self.faults = FaultRules()
        self.renderer: Renderer | OneClip = OneClip(cache_dir) if one_clip else Renderer(cache_dir)
        self.dispatcher = CallbackDispatcher(
            signing_secret=signing_secret,
            record=self._record,
            backoff_scale=callback_backoff_scale,
            timeout=callback_timeout,
        )
        self.queued_seconds = queued_seconds
        self.running_seconds = running_seconds
        self.balance_cents = balance_cents
        self.media_base_url = ""
        self._callback_log: list[dict[str, Any]] = []
        self._silenced: set[str] = set()
        self._later: list[tuple[float, dict[str, Any]]] = []

    def create_later(self, seconds: float, **made: Any) -> None:
        """Make a run ``seconds`` from now (a lost create Runflow finishes late), at a tick."""
        with self.store.lock:
            self._later.append((time.monotonic() + seconds, made))

    def silence_callbacks(self) -> None:
        """Runs made so far never call back, runs still to be made late never appear, and
        callbacks not yet sent are dropped: a test ending must not leave deliveries that
        reach the next one's database."""
        with self.store.lock:
            self._later.clear()
            self._silenced.update(run.id for run in self.store.all())
        self.dispatcher.settle()

    def close(self) -> None:
        self.dispatcher.close()
        self.renderer.close()

    @property
    def callback_log(self) -> list[dict[str, Any]]:
        with self.store.lock:
            return [dict(entry) for entry in self._callback_log]

    def faults_for(self, run: SandboxRun) -> Faults:
        prompt = str(run.input.get("prompt", ""))
        return self.faults.resolve(client_ref=run.client_ref, run_id=run.id, prompt=prompt)

    def snapshot(self, run_id: str) -> dict[str, Any] | None:
        self.tick()
        with self.store.lock:
            run = self.store.get(run_id)
            return self._reported(run) if run is not None else None

    def _reported(self, run: SandboxRun) -> dict[str, Any]:
        """The run object as answered: a ``report_status`` fault renames a run in progress."""
        body = run.to_json()
        shown = None if run.terminal else self.faults_for(run).report_status
        if shown is not None:
            body["status_code"] = shown
        return body

    def tick(self) -> None:
        renders: list[tuple[str, tuple[int, int, int, bool]]] = []
        finished: list[Terminal | None] = []
        now = time.monotonic()
        with self.store.lock:
            appearing = [made for at, made in self._later if at <= now]
            self._later = [(at, made) for at, made in self._later if at > now]
            for made in appearing:
                self.store.create(**made)
            for run in self.store.active():
                faults = self.faults_for(run)
                queued = _pick(faults.queued_seconds, self.queued_seconds)
                due = queued + _pick(faults.running_seconds, self.running_seconds)
                elapsed = now - run.created_mono
                if run.status_code == "queued" and elapsed >= queued:
                    run.status_code = "running"
                    run.started_at = run.at(queued)
                if run.status_code == "running" and not run.render_requested:
                    run.render_requested = True
                    renders.append((run.id, _render_spec(run.input)))
                if (
                    run.status_code == "running"
                    and elapsed >= due
                    and self._finish(run, faults, due)
                ):
                    finished.append(_terminal(run, faults))
        for run_id, spec in renders:
            self.renderer.render(*spec).add_done_callback(partial(self._rendered, run_id))
        self._send(finished)

    def cancel(self, run_id: str, reason: str) -> tuple[bool, dict[str, Any]] | None:
        """Cancel unless terminal; answer (whether it changed, the run object)."""
        self.tick()
        with self.store.lock:
            run = self.store.get(run_id)
            if run is None:
                return None
            if run.terminal:
                return False, run.to_json()
            stage = run.status_code
            run.status_code = "canceled"
            run.completed_at = run.at(time.monotonic() - run.created_mono)
            _set_failure(run, "CANCELED", reason, stage)
            body = run.to_json()
            terminal = _terminal(run, self.faults_for(run))
        self._send([terminal])
        return True, body

    def redeliver(self, run_id: str) -> str | None:
        """Re-send a terminal run's callback; None when there is nothing to send."""
        self.tick()
        with self.store.lock:
            run = self.store.get(run_id)
            if run is None or not run.terminal or not run.callback_url:
                return None
            url, payload = run.callback_url, payload_for(run.to_json())
        return self.dispatcher.redeliver(url, payload)

    def history(self, run_id: str) -> list[dict[str, Any]] | None:
        with self.store.lock:
            run = self.store.get(run_id)
            return [dict(entry) for entry in run.callbacks] if run is not None else None

    def page(self, query: listing.RunQuery, limit: int, pq: str | None) -> dict[str, Any]:
        self.tick()
        with self.store.lock:
            runs = [run for run in self.store.all() if listing.matches(run, query)]
            found = listing.page(runs, limit, pq)
            by_id = {run.id: run for run in runs}
            found["items"] = [self._reported(by_id[item["id"]]) for item in found["items"]]
            return found

    def _finish(self, run: SandboxRun, faults: Faults, due: float) -> bool:
        if faults.fail:
            run.status_code = "failed"
            run.completed_at = run.at(due)
            _set_failure(run, faults.failure_code, faults.failure_message, "inference")
            run.cost = "0"
            return True
        if run.media_error is not None:
            run.status_code = "failed"
            run.completed_at = run.at(due)
            _set_failure(run, "RENDER_FAILED", run.media_error, "postprocessing")
            run.cost = "0"
            return True
        if run.media is None or run.media_ready_mono is None:
            return False
        self._succeed(run, faults, max(due, run.media_ready_mono - run.created_mono))
        return True

    def _succeed(self, run: SandboxRun, faults: Faults, done: float) -> None:
        assert run.media is not None
        assert run.started_at is not None
        width, height, length, audio = _render_spec(run.input)
        resolution = str(run.input.get("resolution", "720p"))
        run.status_code = "succeeded"
        run.completed_at = run.at(done)
        seed = run.input.get("seed")
        run.output = {
            "outputs": [
                {
                    "url": f"{self.media_base_url}/media/{run.media.name}?run={run.id}",
                    "type": "video/mp4",
                    "width": width,
                    "height": height,
                    "duration": float(length),
                    "has_audio": audio,
                }
            ],
            "seed": seed if isinstance(seed, int) else random.randrange(2**31),  # noqa: S311
            "nsfw_detected": faults.nsfw,
            "timing": {
                "inference_ms": round((run.completed_at - run.started_at).total_seconds() * 1000)
            },
        }
        price = PRICES_PER_SECOND[resolution]
        cost = (price * length).quantize(COST_PLACES)
        run.cost = str(cost)
        run.cost_breakdown = [
            {
                "description": f"Output video seconds ({resolution})",
                "quantity": length,
                "unit": "second",
                "unit_price": str(price.quantize(COST_PLACES)),
                "amount": str(cost),
            }
        ]
        self.balance_cents -= math.ceil(cost * 100)

    def _rendered(self, run_id: str, future: Any) -> None:
        with self.store.lock:
            run = self.store.get(run_id)
            if run is None:
                return
            error = future.exception()
            if error is None:
                run.media = future.result()
            else:
                run.media_error = str(error) or type(error).__name__
            run.media_ready_mono = time.monotonic()
        self.tick()

    def _record(self, run_id: str, attempt: dict[str, Any]) -> None:
        with self.store.lock:
            run = self.store.get(run_id)
            if run is not None:
                run.callbacks.append(attempt)
            self._callback_log.append({"run_id": run_id, **attempt})

    def _send(self, finished: list[Terminal | None]) -> None:
        for terminal in finished:
            if terminal is not None and terminal[1]["run_id"] not in self._silenced:
                self.dispatcher.dispatch(*terminal)


def _pick(override: float | None, default: float) -> float:
    return default if override is None else override


def _render_spec(data: dict[str, Any]) -> tuple[int, int, int, bool]:
    resolution = str(data.get("resolution", "720p"))
    width, height = dimensions(resolution, str(data.get("aspect_ratio", "auto")))
    return (
        width,
        height,
        seconds(str(data.get("duration", "auto"))),
        bool(data.get("generate_audio", True)),
    )


def _set_failure(run: SandboxRun, code: str, message: str, stage: str) -> None:
    run.failure_code = code
    run.failure_message = message
    run.failure_stage_code = stage
    run.error = {"code": code, "message": message}


def _terminal(run: SandboxRun, faults: Faults) -> Terminal | None:
    """The callback a run that just ended owes, if it asked for one."""
    if not run.callback_url:
        return None
    plan = DeliveryPlan(
        copies=faults.duplicate_callbacks,
        delay=faults.callback_delay,
        drop=faults.drop_callbacks,
        out_of_order=faults.out_of_order,
    )
    return run.callback_url, payload_for(run.to_json()), plan
