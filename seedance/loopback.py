"""What the loopback stand-ins for outside services share (the Runflow sandbox, the Stripe
fake): a threading HTTP server bound at construction, and a keep-alive handler that reads
a body, answers JSON, or drops the connection on purpose."""

import contextlib
import json
import logging
import socket
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

logger = logging.getLogger(__name__)


class LoopbackServer(ThreadingHTTPServer):
    """Serves each request on a daemon thread; ``api`` is what the handler asks."""

    daemon_threads = True
    block_on_close = False

    def __init__(
        self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], api: Any
    ) -> None:
        self.api = api
        super().__init__(address, handler)

    @property
    def url(self) -> str:
        """A URL a client can dial: a wildcard bind is reached through loopback."""
        host, port = self.server_address[:2]
        host = str(host)
        if host in ("0.0.0.0", ""):  # noqa: S104
            host = "127.0.0.1"
        return f"http://{f'[{host}]' if ':' in host else host}:{port}"


class LoopbackHandler(BaseHTTPRequestHandler):
    """Every method goes to ``handle_api``; subclasses parse and answer."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle on, keep-alive clients wait
    # ~40 ms for the second one on every request.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s " + format, self.address_string(), *args)

    def do_GET(self) -> None:
        self._answer()

    def do_HEAD(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self._answer()

    def do_DELETE(self) -> None:
        self._answer()

    def handle_api(self) -> None:
        raise NotImplementedError

    def read_body(self) -> bytes:
        length = self.headers.get("Content-Length", "")
        return self.rfile.read(int(length)) if length.isdigit() else b""

    def write_json(self, status: int, body: Any, headers: dict[str, str]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def drop(self) -> None:
        """Close the socket without a word, as a crashed load balancer would."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _answer(self) -> None:
        try:
            self.handle_api()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


class LoopbackService:
    """A stand-in's lifecycle: ``start`` serves in the background, ``stop`` cleans up;
    usable as a context manager."""

    def start(self) -> Self:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
