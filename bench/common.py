"""What every bench script shares: ports, waiting for a server, timing and percentiles."""

import math
import socket
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, *, seconds: float = 10.0, name: str = "server") -> None:
    """Block until something accepts on loopback ``port``; exit loudly if nothing does."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"bench: the {name} on port {port} did not start within {seconds:g} s")


@dataclass
class Stopwatch:
    """Seconds since ``timed()`` began; frozen once its block ends."""

    started: float
    seconds: float = 0.0


@contextmanager
def timed() -> Iterator[Stopwatch]:
    watch = Stopwatch(started=time.perf_counter())
    try:
        yield watch
    finally:
        watch.seconds = time.perf_counter() - watch.started


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile (``share`` in 0..100), as wrk reports its own."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(math.ceil(share / 100 * len(ordered)), 1)
    return ordered[rank - 1]


def latency_ms(seconds: Sequence[float]) -> dict[str, float]:
    """p50 and p99 of latencies given in seconds, in milliseconds."""
    return {
        "p50_ms": percentile(seconds, 50) * 1000,
        "p99_ms": percentile(seconds, 99) * 1000,
    }
