"""The sandbox's runs, held in memory behind one lock.

Every mutation happens under ``RunStore.lock``; callers that also render or post
callbacks take a snapshot under the lock and do the slow work after releasing it.
"""

import itertools
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

STATUSES: dict[str, tuple[bool, str]] = {
    "queued": (False, "Accepted, waiting for capacity."),
    "dispatching": (False, "Being handed to the model provider."),
    "running": (False, "The model is generating."),
    "succeeded": (True, "Finished with output."),
    "failed": (True, "Finished without output."),
    "canceled": (True, "Stopped by an administrator."),
    "partial_succeeded": (True, "Some outputs of a multi-output run finished."),
}
TERMINAL = frozenset(code for code, (terminal, _) in STATUSES.items() if terminal)


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


@dataclass
class SandboxRun:
    """One run; ``to_json`` is the run object exactly as Runflow answers it."""

    id: str
    seq: int
    model_id: str
    org_id: str
    input: dict[str, Any]
    client_ref: str | None
    request_id: str
    callback_url: str | None
    metadata: dict[str, Any] | None
    created_at: datetime
    created_mono: float
    status_code: str = "queued"
    started_at: datetime | None = None
    completed_at: datetime | None = None
    output: dict[str, Any] | None = None
    cost: str | None = None
    cost_breakdown: list[dict[str, Any]] | None = None
    failure_code: str | None = None
    failure_message: str | None = None
    failure_stage_code: str | None = None
    error: dict[str, str] | None = None
    render_requested: bool = False
    media: Path | None = None
    media_ready_mono: float | None = None
    media_error: str | None = None
    callbacks: list[dict[str, Any]] = field(default_factory=list)

    @property
    def terminal(self) -> bool:
        return self.status_code in TERMINAL

    @property
    def duration_ms(self) -> int | None:
        if self.completed_at is None:
            return None
        return round((self.completed_at - self.created_at).total_seconds() * 1000)

    def at(self, seconds: float) -> datetime:
        """Wall-clock time ``seconds`` after creation, so timestamps follow the schedule."""
        return self.created_at + timedelta(seconds=seconds)

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.id,
            "model_id": self.model_id,
            "org_id": self.org_id,
            "status_code": self.status_code,
            "input": self.input,
            "output": self.output,
            "duration_ms": self.duration_ms,
            "cost": self.cost,
            "cost_breakdown": self.cost_breakdown,
            "client_ref": self.client_ref,
            "request_id": self.request_id,
            "created_at": iso(self.created_at),
            "started_at": iso(self.started_at),
            "completed_at": iso(self.completed_at),
            "callback_url": self.callback_url,
            "metadata": self.metadata,
            "failure_code": self.failure_code,
            "failure_message": self.failure_message,
            "failure_stage_code": self.failure_stage_code,
        }
        if self.error is not None:
            body["error"] = dict(self.error)
        return body


class RunStore:
    """Runs by id plus an insertion sequence that orders listings and cursors."""

    def __init__(self, *, model_id: str) -> None:
        self.lock = threading.RLock()
        self.model_id = model_id
        self.org_id = str(uuid.uuid4())
        self._runs: dict[str, SandboxRun] = {}
        self._seq = itertools.count(1)

    def create(
        self,
        *,
        input: dict[str, Any],
        client_ref: str | None,
        callback_url: str | None,
        metadata: dict[str, Any] | None,
    ) -> SandboxRun:
        with self.lock:
            run = SandboxRun(
                id=str(uuid.uuid4()),
                seq=next(self._seq),
                model_id=self.model_id,
                org_id=self.org_id,
                input=input,
                client_ref=client_ref,
                request_id=f"req_{uuid.uuid4().hex}",
                callback_url=callback_url,
                metadata=metadata,
                created_at=datetime.now(UTC),
                created_mono=time.monotonic(),
            )
            self._runs[run.id] = run
            return run

    def get(self, run_id: str) -> SandboxRun | None:
        with self.lock:
            return self._runs.get(run_id)

    def all(self) -> list[SandboxRun]:
        """Every run, newest first (the order listings use)."""
        with self.lock:
            return sorted(self._runs.values(), key=lambda run: run.seq, reverse=True)

    def active(self) -> list[SandboxRun]:
        with self.lock:
            return [run for run in self._runs.values() if not run.terminal]

    def count(self, *, client_ref: str | None = None) -> int:
        with self.lock:
            if client_ref is None:
                return len(self._runs)
            return sum(1 for run in self._runs.values() if run.client_ref == client_ref)
