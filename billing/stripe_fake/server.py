"""``StripeFake``: the Stripe endpoints billing calls, on loopback, for tests, demos and benches.

It binds at construction (so ``url`` is known before ``start``) and serves on daemon threads;
the real ``stripe`` SDK talks to it once its base addresses point at ``url``.
"""

import copy
import logging
import threading
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any, Self

from seedance.loopback import LoopbackServer, LoopbackService

from . import clockwork, state
from .api import Api
from .faults import Faults
from .forms import no_such
from .handler import StripeFakeHandler
from .store import Config, Store

logger = logging.getLogger(__name__)

POLL_SECONDS = 0.05
TICK_SECONDS = 0.1


class StripeFake(LoopbackService):
    """Stripe's customers, meters, prices, subscriptions and meter events on ``host:port``.

    ``port=0`` picks a free port; ``now`` is the clock behind ``created``, the meter-event
    timestamp window, the 24 h identifier and idempotency windows, billing periods and the
    lags of Stripe's asynchronous work (``config``: see ``store.Config``). ``state_path``
    keeps the account on disk across restarts; ``None`` keeps it in memory.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        now: Callable[[], float] = time.time,
        state_path: Path | None = None,
        **config: Any,
    ) -> None:
        self._config = dict(config)
        self.store = Store(now, Config())
        self.store.config.configure(**config)
        self.faults = Faults()
        self.state_path = state_path
        if state_path is not None:
            state.load(self.store, state_path)
        api = Api(self.store, self.faults, self._persist)
        self._httpd = LoopbackServer((host, port), StripeFakeHandler, api)
        self.url = self._httpd.url
        self.store.base_url = self.url
        self._serving: threading.Thread | None = None
        self._ticking = threading.Event()
        self._ticker: threading.Thread | None = None
        self._closed = False

    @property
    def config(self) -> Config:
        return self.store.config

    def flush(self) -> int:
        """Do Stripe's pending work now: close due periods, send error reports, deliver."""
        clockwork.tick(self.store, force=True)
        sent = clockwork.deliver(self.store, force=True)
        self._persist()
        return sent

    def add_destination(
        self, url: str, secret: str | None = None, enabled_events: list[str] | None = None
    ) -> dict[str, Any]:
        """Register a thin-event webhook endpoint, as ``POST /v2/core/event_destinations``."""
        from .thin_events import add_destination

        with self.store.lock:
            destination = add_destination(self.store, url, enabled_events or ["*"], secret)
            self._persist()
            return copy.deepcopy(destination)

    def add_webhook_endpoint(
        self, url: str, secret: str | None = None, enabled_events: list[str] | None = None
    ) -> dict[str, Any]:
        """Register a v1 webhook endpoint for snapshot events, as ``POST /v1/webhook_endpoints``
        (with a secret of the caller's choosing, which Stripe would pick itself)."""
        from .events import add_webhook_endpoint

        with self.store.lock:
            endpoint = add_webhook_endpoint(self.store, url, enabled_events or ["*"], secret)
            self._persist()
            return copy.deepcopy(endpoint)

    def events(self) -> list[dict[str, Any]]:
        """v1 snapshot events, oldest first."""
        return self._objects(self.store.v1_events)

    def checkout_sessions(self) -> list[dict[str, Any]]:
        return self._objects(self.store.checkout_sessions)

    def payment_methods(self) -> list[dict[str, Any]]:
        return self._objects(self.store.payment_methods)

    def portal_configurations(self) -> list[dict[str, Any]]:
        return self._objects(self.store.portal_configurations)

    def thin_events(self) -> list[dict[str, Any]]:
        return self._objects(self.store.thin_events)

    def invoices(self) -> list[dict[str, Any]]:
        return self._objects(self.store.invoices)

    def deliveries(self) -> list[dict[str, Any]]:
        with self.store.lock:
            return copy.deepcopy(self.store.deliveries)

    def _persist(self) -> None:
        if self.state_path is not None:
            state.save(self.store, self.state_path)

    def _tick_forever(self) -> None:
        while not self._ticking.wait(TICK_SECONDS):
            try:
                clockwork.tick(self.store)
                if clockwork.deliver(self.store):
                    self._persist()
            except Exception:
                logger.exception("Stripe fake: background work failed")

    def meter_events(self) -> list[dict[str, Any]]:
        """Accepted events, oldest first; ``value`` a Decimal, ``error`` a code or None."""
        with self.store.lock:
            events = copy.deepcopy(self.store.events)
        for event in events:
            event["value"] = Decimal(event["value"]) if event["value"] is not None else None
        return events

    def customers(self) -> list[dict[str, Any]]:
        return self._objects(self.store.customers)

    def meters(self) -> list[dict[str, Any]]:
        return self._objects(self.store.meters)

    def products(self) -> list[dict[str, Any]]:
        return self._objects(self.store.products)

    def prices(self) -> list[dict[str, Any]]:
        return self._objects(self.store.prices)

    def subscriptions(self) -> list[dict[str, Any]]:
        return self._objects(self.store.subscriptions)

    @property
    def request_log(self) -> list[dict[str, Any]]:
        """Every answered request, oldest first: method, path, status, fault, request_id."""
        with self.store.lock:
            return copy.deepcopy(self.store.requests)

    def set_subscription_status(self, subscription_id: str, status: str) -> None:
        """Move a subscription to ``past_due``, ``unpaid``, ``canceled``... as invoices would."""
        with self.store.lock:
            subscription = self.store.subscriptions.get(subscription_id)
            if subscription is None:
                raise no_such("subscription", subscription_id, param="id")
            subscription["status"] = status

    def reset(self) -> None:
        """Forget every object, event, saved answer and logged request; clear faults and timing."""
        self.store.reset()
        self.store.config = Config()
        self.store.config.configure(**self._config)
        self.faults.clear()
        self.faults.reset_counts()
        self._persist()

    def start(self) -> Self:
        """Serve on a background thread; return self for ``with`` and chaining."""
        thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": POLL_SECONDS},
            name="stripe-fake-http",
            daemon=True,
        )
        thread.start()
        self._serving = thread
        self._start_ticker()
        logger.info("Stripe fake serving on %s", self.url)
        return self

    def serve_forever(self) -> None:
        """Serve on the calling thread until ``stop`` or KeyboardInterrupt, then clean up."""
        self._serving = threading.current_thread()
        self._start_ticker()
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
        if self._ticker is not None:
            self._ticker.join(timeout=5)
        serving = self._serving
        if serving is not None and serving is not threading.current_thread():
            self._httpd.shutdown()
            serving.join(timeout=5)
        self._httpd.server_close()

    def _start_ticker(self) -> None:
        self._ticker = threading.Thread(
            target=self._tick_forever, name="stripe-fake-clockwork", daemon=True
        )
        self._ticker.start()

    def _objects(self, table: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
        with self.store.lock:
            return copy.deepcopy(list(table.values()))
