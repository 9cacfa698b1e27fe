"""HTTP I/O for the sandbox: read a request, let ``Api`` decide, write (or withhold) the answer."""

import contextlib
import json
import logging
import socket
import time
from http.server import BaseHTTPRequestHandler
from typing import Any, Protocol, cast
from urllib.parse import parse_qs, urlsplit

from .api import Api, Reply, Request

logger = logging.getLogger(__name__)

CHUNK = 256 * 1024


class Host(Protocol):
    """What the handler needs from the server that owns it."""

    api: Api


class SandboxHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "RunflowSandbox/1.0"
    # Headers and body go out in two writes; with Nagle on, keep-alive clients wait
    # ~40 ms for the second one on every request.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s " + format, self.address_string(), *args)

    def do_GET(self) -> None:
        self._handle()

    def do_HEAD(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def _handle(self) -> None:
        parts = urlsplit(self.path)
        length = self.headers.get("Content-Length", "")
        request = Request(
            method=self.command,
            path=parts.path,
            query={key: values[-1] for key, values in parse_qs(parts.query).items()},
            headers=cast(Any, self.headers),
            body=self.rfile.read(int(length)) if length.isdigit() else b"",
        )
        reply = cast(Host, self.server).api.respond(request)
        try:
            self._write(reply)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _write(self, reply: Reply) -> None:
        if reply.drop:
            self._drop()
            return
        if reply.delay:
            time.sleep(reply.delay)
        if reply.file is not None and reply.span is not None:
            self._write_file(reply)
            return
        data = json.dumps(reply.body).encode()
        self.send_response(reply.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _write_file(self, reply: Reply) -> None:
        assert reply.file is not None
        assert reply.span is not None
        start, end = reply.span
        self.send_response(reply.status)
        self.send_header("Content-Type", "video/mp4")
        self.send_header("Content-Length", str(end - start + 1))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command == "HEAD":
            return
        with reply.file.open("rb") as file:
            file.seek(start)
            remaining = end - start + 1
            while remaining > 0:
                chunk = file.read(min(CHUNK, remaining))
                if not chunk:
                    break
                self.wfile.write(chunk)
                remaining -= len(chunk)

    def _drop(self) -> None:
        """Close the socket without a word, as a crashed load balancer would."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)
