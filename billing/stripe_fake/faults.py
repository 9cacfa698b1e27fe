"""Fault injection: make the fake fail the ways Stripe and the network can, on purpose.

Kinds, chosen per matching request (by default only ``/v1/billing/meter_events``):

- ``500``: refused before the endpoint runs: nothing recorded, nothing saved under the
  Idempotency-Key, so a retry runs afresh; answers ``api_error``.
- ``429``: refused the same way; answers a rate limit with ``Stripe-Should-Retry: true``.
- ``500_after_start``: the endpoint runs (an event is recorded), then the answer is a 500
  ``api_error``, saved under the Idempotency-Key as Stripe saves any answer of a request that
  began executing: a retry with the same key gets the same 500 back.
- ``timeout_after_record``: the endpoint runs (a valid event is recorded and its answer saved
  for idempotent replay), then the answer waits ``timeout_seconds``, past the client's timeout.
- ``drop_after_record``: the endpoint runs, then the connection closes without an answer.

``queue`` holds kinds consumed one per matching request, before ``error_rate`` (0..1) rolls a
``seed``-ed RNG: the same seed and the same request order inject the same faults.
``latency`` delays every API answer (not the ``/_fake`` controls).
"""

import random
import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

KINDS = ("500", "429", "500_after_start", "timeout_after_record", "drop_after_record")
BEFORE_RECORD = frozenset({"500", "429"})
DEFAULT_PATHS = ("/v1/billing/meter_events",)
DEFAULT_TIMEOUT_SECONDS = 2.0
SETTINGS = ("error_rate", "seed", "kinds", "paths", "queue", "latency", "timeout_seconds")


class FaultError(ValueError):
    """A fault setting that cannot apply; the control surface answers 400."""


def _kinds(value: Any, name: str) -> list[str]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise FaultError(f"{name}: must be a list of fault kinds")
    kinds = [str(kind) for kind in value]
    unknown = [kind for kind in kinds if kind not in KINDS]
    if unknown:
        raise FaultError(f"{name}: unknown kinds {unknown} (known: {', '.join(KINDS)})")
    return kinds


def _seconds(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise FaultError(f"{name}: must be a number of seconds, zero or more")
    return float(value)


@dataclass(frozen=True)
class Settings:
    error_rate: float = 0.0
    kinds: tuple[str, ...] = KINDS
    paths: frozenset[str] = frozenset(DEFAULT_PATHS)
    latency: float = 0.0
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    seed: int | None = None


class Faults:
    """Thread-safe fault settings shared by every handler thread of one fake."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._settings = Settings()
        self._queue: list[str] = []
        self._rng = random.Random()  # noqa: S311  (chaos, not secrets)
        self._injected: Counter[str] = Counter()

    def configure(self, **settings: Any) -> None:
        """Change only the named settings (see the module docstring); ``seed`` restarts the RNG."""
        unknown = sorted(set(settings) - set(SETTINGS))
        if unknown:
            raise FaultError(f"unknown settings {unknown} (known: {', '.join(SETTINGS)})")
        clean: dict[str, Any] = {}
        if "error_rate" in settings:
            rate = settings["error_rate"]
            if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate <= 1:
                raise FaultError("error_rate: must be a number from 0 to 1")
            clean["error_rate"] = float(rate)
        if "kinds" in settings:
            clean["kinds"] = tuple(_kinds(settings["kinds"], "kinds"))
            if not clean["kinds"]:
                raise FaultError("kinds: must name at least one kind")
        queue = _kinds(settings["queue"], "queue") if "queue" in settings else None
        if "paths" in settings:
            paths = settings["paths"]
            if isinstance(paths, str) or not all(isinstance(path, str) for path in paths):
                raise FaultError("paths: must be a list of request paths")
            clean["paths"] = frozenset(paths)
        for name in ("latency", "timeout_seconds"):
            if name in settings:
                clean[name] = _seconds(settings[name], name)
        if "seed" in settings:
            seed = settings["seed"]
            if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
                raise FaultError("seed: must be an integer or null")
            clean["seed"] = seed
        with self._lock:
            self._settings = replace(self._settings, **clean)
            if queue is not None:
                self._queue = queue
            if "seed" in clean:
                self._rng = random.Random(clean["seed"])  # noqa: S311  (chaos, not secrets)

    def push(self, *kinds: str) -> None:
        """Queue faults for the next matching requests, one each, in order."""
        clean = _kinds(kinds, "queue")
        with self._lock:
            self._queue.extend(clean)

    def clear(self) -> None:
        """Back to no faults, default paths and kinds, no latency; injected counts stay."""
        with self._lock:
            self._settings = Settings()
            self._queue = []
            self._rng = random.Random()  # noqa: S311  (chaos, not secrets)

    def reset_counts(self) -> None:
        with self._lock:
            self._injected.clear()

    def take(self, path: str) -> str | None:
        """The fault for this request, if its path matches: the queue first, then the dice."""
        with self._lock:
            settings = self._settings
            if path not in settings.paths:
                return None
            kind: str | None = None
            if self._queue:
                kind = self._queue.pop(0)
            elif settings.error_rate > 0 and self._rng.random() < settings.error_rate:
                kind = self._rng.choice(settings.kinds)
            if kind is not None:
                self._injected[kind] += 1
            return kind

    @property
    def latency(self) -> float:
        return self._settings.latency

    @property
    def timeout_seconds(self) -> float:
        return self._settings.timeout_seconds

    def injected(self) -> dict[str, int]:
        """How many faults of each kind have been injected since start or ``reset_counts``."""
        with self._lock:
            return dict(self._injected)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            settings = self._settings
            return {
                "error_rate": settings.error_rate,
                "seed": settings.seed,
                "kinds": list(settings.kinds),
                "paths": sorted(settings.paths),
                "queue": list(self._queue),
                "latency": settings.latency,
                "timeout_seconds": settings.timeout_seconds,
                "injected": dict(self._injected),
            }
