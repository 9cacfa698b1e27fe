"""Callback delivery as Runflow does it: signed POSTs, retried with backoff, sometimes badly.

Attempts run on a thread pool and waits run on timers, so a slow receiver or a long
backoff never blocks the store or another delivery.
"""

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from seedance.runflow.signing import REQUEST_ID_HEADER, SIGNATURE_HEADER, sign

logger = logging.getLogger(__name__)

ATTEMPTS = 3
BACKOFF_SECONDS = (1.0, 2.0)
EVENTS = {
    "succeeded": ("run.completed", "succeeded"),
    "failed": ("run.failed", "failed"),
    "canceled": ("run.cancelled", "cancelled"),
}

Recorder = Callable[[str, dict[str, Any]], None]


def payload_for(run: dict[str, Any]) -> dict[str, Any]:
    """The callback body for a terminal run object."""
    event, status = EVENTS[run["status_code"]]
    return {
        "event": event,
        "run_id": run["id"],
        "status": status,
        "output": run["output"] if status == "succeeded" else None,
        "duration_ms": run["duration_ms"],
        "created_at": run["created_at"],
        "completed_at": run["completed_at"],
        "metadata": run["metadata"],
    }


def out_of_order_payload(payload: dict[str, Any], mode: str) -> dict[str, Any]:
    """A validly signed callback that contradicts ``payload`` or predates it."""
    if mode == "stale":
        stale = {"event": "run.running", "status": "running", "output": None}
        return {**payload, **stale, "duration_ms": None, "completed_at": None}
    if payload["status"] == "succeeded":
        return {**payload, "event": "run.failed", "status": "failed", "output": None}
    return {**payload, "event": "run.completed", "status": "succeeded", "output": None}


@dataclass(frozen=True)
class DeliveryPlan:
    copies: int = 1
    delay: float = 0.0
    drop: bool = False
    out_of_order: str | None = None


@dataclass
class _Delivery:
    url: str
    run_id: str
    event: str
    body: bytes
    request_id: str = field(default_factory=lambda: f"req_{uuid.uuid4().hex}")


class CallbackDispatcher:
    def __init__(
        self,
        *,
        signing_secret: str | None,
        record: Recorder,
        backoff_scale: float = 1.0,
        timeout: float = 5.0,
        workers: int = 16,
    ) -> None:
        self._secret = signing_secret
        self._record = record
        self._scale = backoff_scale
        self._client = httpx.Client(timeout=timeout, follow_redirects=False)
        self._workers = workers
        self._pool = self._new_pool()
        self._timers: set[threading.Timer] = set()
        self._lock = threading.Lock()
        self._closed = False
        self._settling = False

    def dispatch(self, url: str, payload: dict[str, Any], plan: DeliveryPlan) -> None:
        """Deliver a terminal callback as the plan says: maybe late, twice, or never."""
        if plan.drop:
            logger.info("dropping callback for run %s", payload["run_id"])
            return
        chain = [self._delivery(url, payload)] * plan.copies
        if plan.out_of_order:
            chain.append(self._delivery(url, out_of_order_payload(payload, plan.out_of_order)))
        self._later(plan.delay, lambda: self._attempt(chain, 0, 1))

    def redeliver(self, url: str, payload: dict[str, Any]) -> str:
        """Send the terminal callback again as a new delivery, ignoring faults."""
        delivery = self._delivery(url, payload)
        self._later(0, lambda: self._attempt([delivery], 0, 1))
        return delivery.request_id

    def settle(self) -> None:
        """Drop every delivery not yet due and wait out those under way."""
        with self._lock:
            self._settling = True
            timers, self._timers = self._timers, set()
            pool = self._pool
            self._pool = self._new_pool()
        for timer in timers:
            timer.cancel()
            timer.join()
        pool.shutdown(wait=True, cancel_futures=True)
        with self._lock:
            self._settling = False

    def close(self) -> None:
        with self._lock:
            self._closed = True
            for timer in self._timers:
                timer.cancel()
            self._timers.clear()
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._client.close()

    def _new_pool(self) -> ThreadPoolExecutor:
        return ThreadPoolExecutor(max_workers=self._workers, thread_name_prefix="sandbox-callback")

    def _delivery(self, url: str, payload: dict[str, Any]) -> _Delivery:
        body = json.dumps(payload, separators=(",", ":")).encode()
        return _Delivery(url=url, run_id=payload["run_id"], event=payload["event"], body=body)

    def _attempt(self, chain: list[_Delivery], index: int, attempt: int) -> None:
        delivery = chain[index]
        ok = self._post(delivery, attempt)
        if not ok and attempt < ATTEMPTS:
            backoff = BACKOFF_SECONDS[attempt - 1] * self._scale
            self._later(backoff, lambda: self._attempt(chain, index, attempt + 1))
        elif index + 1 < len(chain):
            self._later(0, lambda: self._attempt(chain, index + 1, 1))

    def _post(self, delivery: _Delivery, attempt: int) -> bool:
        headers = {"Content-Type": "application/json", REQUEST_ID_HEADER: delivery.request_id}
        if self._secret:
            headers[SIGNATURE_HEADER] = sign(delivery.body, self._secret)
        started = time.monotonic()
        status: int | None = None
        error: str | None = None
        try:
            response = self._client.post(delivery.url, content=delivery.body, headers=headers)
            status = response.status_code
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        ok = status is not None and 200 <= status < 300
        self._record(
            delivery.run_id,
            {
                "request_id": delivery.request_id,
                "event": delivery.event,
                "url": delivery.url,
                "attempt": attempt,
                "status_code": status,
                "error": error,
                "ok": ok,
                "sent_at": datetime.now(UTC).isoformat(),
                "duration_ms": round((time.monotonic() - started) * 1000),
            },
        )
        return ok

    def _later(self, delay: float, job: Callable[[], None]) -> None:
        with self._lock:
            if self._closed or self._settling:
                return
            if delay <= 0:
                self._pool.submit(self._guarded, job)
                return
            timer = threading.Timer(delay, self._fire)
            timer.args = (timer, job)
            timer.daemon = True
            self._timers.add(timer)
            timer.start()

    def _fire(self, timer: threading.Timer, job: Callable[[], None]) -> None:
        with self._lock:
            self._timers.discard(timer)
        self._later(0, job)

    def _guarded(self, job: Callable[[], None]) -> None:
        try:
            job()
        except Exception:
            if not self._closed:
                logger.exception("callback delivery crashed")
