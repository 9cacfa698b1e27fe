"""HTTP I/O for the fake: read a request, let ``Api`` decide, write (or withhold) the answer."""

import contextlib
import json
import logging
import socket
import time
from http.server import BaseHTTPRequestHandler
from typing import Any, Protocol, cast
from urllib.parse import urlsplit

from .api import Api, Reply, Request

logger = logging.getLogger(__name__)


class Host(Protocol):
    """What the handler needs from the server that owns it."""

    api: Api


class StripeFakeHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "StripeFake/1.0"
    disable_nagle_algorithm = True  # headers and body go out as two writes: no 40 ms stall

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s " + format, self.address_string(), *args)

    def do_GET(self) -> None:
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
            query=parts.query,
            headers=cast(Any, self.headers),
            body=self.rfile.read(int(length)) if length.isdigit() else b"",
        )
        reply = cast(Host, self.server).api.respond(request)
        try:
            self._write(reply)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _write(self, reply: Reply) -> None:
        if reply.delay:
            time.sleep(reply.delay)
        if reply.drop:
            self._drop()
            return
        data = json.dumps(reply.body).encode()
        self.send_response(reply.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _drop(self) -> None:
        """Close the socket without a word, as a crashed load balancer would."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)
