"""``StripeFake``: the Stripe endpoints billing calls, on loopback, for tests, demos and benches.

It binds at construction (so ``url`` is known before ``start``) and serves on daemon threads;
the real ``stripe`` SDK talks to it once its base addresses point at ``url``.
"""

import copy
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Self

from seedance.loopback import LoopbackServer, LoopbackService

from .api import Api
from .faults import Faults
from .forms import no_such
from .handler import StripeFakeHandler
from .store import Store

logger = logging.getLogger(__name__)

POLL_SECONDS = 0.05


class StripeFake(LoopbackService):
    """Stripe's customers, meters, prices, subscriptions and meter events on ``host:port``.

    ``port=0`` picks a free port; ``now`` is the clock behind ``created``, the meter-event
    timestamp window and the 24 h identifier and idempotency windows.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.store = Store(now)
        self.faults = Faults()
        self._httpd = LoopbackServer((host, port), StripeFakeHandler, Api(self.store, self.faults))
        self.url = self._httpd.url
        self._serving: threading.Thread | None = None
        self._closed = False

    def meter_events(self) -> list[dict[str, Any]]:
        """Accepted events, oldest first, each a dict (see ``meter_events.create_meter_event``)."""
        with self.store.lock:
            return copy.deepcopy(self.store.events)

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
        """Forget every object, event, saved answer and logged request, and clear faults."""
        self.store.reset()
        self.faults.clear()
        self.faults.reset_counts()

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
        logger.info("Stripe fake serving on %s", self.url)
        return self

    def serve_forever(self) -> None:
        """Serve on the calling thread until ``stop`` or KeyboardInterrupt, then clean up."""
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
        serving = self._serving
        if serving is not None and serving is not threading.current_thread():
            self._httpd.shutdown()
            serving.join(timeout=5)
        self._httpd.server_close()

    def _objects(self, table: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
        with self.store.lock:
            return copy.deepcopy(list(table.values()))
