"""Fixtures for the unit tests (httpx.MockTransport) and the live ones (scripts/client-test.sh)."""

import os
import threading
import time
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from seedance_client import AsyncSeedanceClient, SeedanceClient

BASE_URL = os.environ.get("SEEDANCE_CLIENT_BASE_URL", "")
API_KEY = os.environ.get("SEEDANCE_CLIENT_API_KEY", "")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Live tests need the stack scripts/client-test.sh starts; elsewhere they are skipped."""
    if BASE_URL and API_KEY:
        return
    skip = pytest.mark.skip(reason="no live stack: run scripts/client-test.sh")
    for item in items:
        if "live" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def client() -> Iterator[SeedanceClient]:
    with SeedanceClient(API_KEY, base_url=BASE_URL, timeout=20) as live:
        yield live


@pytest.fixture
async def aclient() -> AsyncIterator[AsyncSeedanceClient]:
    async with AsyncSeedanceClient(API_KEY, base_url=BASE_URL, timeout=20) as live:
        yield live


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Received:
    """What the webhook receiver got: every request, kept in order, with its raw body."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self._changed = threading.Condition()

    def add(self, headers: dict[str, str], body: bytes) -> None:
        with self._changed:
            self.requests.append((headers, body))
            self._changed.notify_all()

    def wait_for(
        self, webhook_id: str, *, count: int = 1, timeout: float = 30.0
    ) -> list[tuple[dict[str, str], bytes]]:
        """The requests carrying this ``webhook-id`` once there are ``count`` of them."""
        deadline = time.monotonic() + timeout

        def matching() -> list[tuple[dict[str, str], bytes]]:
            return [entry for entry in self.requests if entry[0].get("webhook-id") == webhook_id]

        with self._changed:
            while len(matching()) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no {count} deliveries of {webhook_id} in {timeout} s")
                self._changed.wait(left)
            return matching()


@pytest.fixture(scope="session")
def webhook_receiver() -> Iterator[tuple[str, Received]]:
    """A loopback receiver on the port the stack allows over plain http; answers 200."""
    received = Received()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            received.add({name.lower(): value for name, value in self.headers.items()}, body)
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: object) -> None:
            return None

    port = int(os.environ.get("SEEDANCE_CLIENT_WEBHOOK_PORT", "0"))
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hooks", received
    server.shutdown()
    server.server_close()
