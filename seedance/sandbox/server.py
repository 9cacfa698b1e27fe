"""``SandboxServer``: a loopback stand-in for Runflow, for tests, demos and offline work.

It binds at construction (so ``url`` is known before ``start``), serves on daemon
threads, and advances runs with a ticker so callbacks fire without anyone polling.
"""

import logging
import tempfile
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Self

from seedance.loopback import LoopbackServer, LoopbackService

from .api import Api
from .engine import Sandbox
from .faults import FaultRules
from .handler import SandboxHandler
from .store import RunStore

logger = logging.getLogger(__name__)

POLL_SECONDS = 0.05


class SandboxServer(LoopbackService):
    """Runflow's API on ``host:port`` (0 picks a free port), with fault injection."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        signing_secret: str | None = None,
        api_keys: Iterable[str] | None = None,
        queued_seconds: float = 1.0,
        running_seconds: float = 2.0,
        callback_backoff_scale: float = 1.0,
        callback_timeout: float = 5.0,
        cache_dir: str | Path | None = None,
        balance_cents: int = 1_000_000,
        one_clip: bool = False,
    ) -> None:
        self._temp_dir = (
            tempfile.TemporaryDirectory(prefix="runflow-sandbox-") if cache_dir is None else None
        )
        directory = Path(self._temp_dir.name if self._temp_dir is not None else str(cache_dir))
        self.sandbox = Sandbox(
            signing_secret=signing_secret,
            queued_seconds=queued_seconds,
            running_seconds=running_seconds,
            callback_backoff_scale=callback_backoff_scale,
            callback_timeout=callback_timeout,
            cache_dir=directory,
            balance_cents=balance_cents,
            one_clip=one_clip,
        )
        keys = frozenset(api_keys) if api_keys is not None else None
        self._httpd = LoopbackServer((host, port), SandboxHandler, Api(self.sandbox, keys))
        self.url = self._httpd.url
        self.base_url = f"{self.url}/v1"
        self.sandbox.media_base_url = self.url
        self._ticking = threading.Event()
        self._threads: list[threading.Thread] = []
        self._serving: threading.Thread | None = None
        self._closed = False

    @property
    def faults(self) -> FaultRules:
        return self.sandbox.faults

    @property
    def store(self) -> RunStore:
        return self.sandbox.store

    @property
    def callback_log(self) -> list[dict[str, Any]]:
        """Every callback delivery attempt so far, oldest first, each with its ``run_id``."""
        return self.sandbox.callback_log

    def runs(self, *, client_ref: str | None = None) -> list[dict[str, Any]]:
        """Run objects, newest first, optionally only those with ``client_ref``."""
        self.sandbox.tick()
        with self.store.lock:
            return [
                run.to_json()
                for run in self.store.all()
                if client_ref is None or run.client_ref == client_ref
            ]

    def run(self, run_id: str) -> dict[str, Any] | None:
        return self.sandbox.snapshot(run_id)

    def count_runs(self, *, client_ref: str | None = None) -> int:
        return self.store.count(client_ref=client_ref)

    def wait_for(self, run_id: str, *statuses: str, timeout: float = 10.0) -> dict[str, Any]:
        """Block until the run reaches one of ``statuses`` (default: any terminal one)."""
        wanted = set(statuses) or {"succeeded", "failed", "canceled", "partial_succeeded"}
        deadline = time.monotonic() + timeout
        while True:
            run = self.run(run_id)
            if run is not None and run["status_code"] in wanted:
                return run
            if time.monotonic() > deadline:
                raise TimeoutError(f"run {run_id} is {run and run['status_code']}, not {wanted}")
            time.sleep(0.01)

    def start(self) -> Self:
        """Serve and tick on background threads; return self for ``with`` and chaining."""
        self._start_ticker()
        thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": POLL_SECONDS},
            name="sandbox-http",
            daemon=True,
        )
        thread.start()
        self._threads.append(thread)
        self._serving = thread
        logger.info("Runflow sandbox serving on %s", self.url)
        return self

    def serve_forever(self) -> None:
        """Serve on the calling thread until ``stop`` or KeyboardInterrupt, then clean up."""
        self._start_ticker()
        self._serving = threading.current_thread()
        try:
            self._httpd.serve_forever(poll_interval=POLL_SECONDS)
        finally:
            self._serving = None
            self.stop()

    def stop(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._ticking.set()
        serving = self._serving
        if serving is not None and serving is not threading.current_thread():
            self._httpd.shutdown()
        self._httpd.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self.sandbox.close()
        if self._temp_dir is not None:
            self._temp_dir.cleanup()

    def _start_ticker(self) -> None:
        interval = min(
            max(min(self.sandbox.queued_seconds, self.sandbox.running_seconds) / 4, 0.01), 0.25
        )
        thread = threading.Thread(
            target=self._tick_loop, args=(interval,), name="sandbox-tick", daemon=True
        )
        thread.start()
        self._threads.append(thread)

    def _tick_loop(self, interval: float) -> None:
        while not self._ticking.wait(interval):
            try:
                self.sandbox.tick()
            except Exception:
                logger.exception("sandbox tick failed")
