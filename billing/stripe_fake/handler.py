"""HTTP I/O for the fake: read a request, let ``Api`` decide, write (or withhold) the answer."""

import time
from typing import Any, cast
from urllib.parse import urlsplit

from seedance.loopback import LoopbackHandler, LoopbackServer

from .api import Api, Reply, Request


class StripeFakeHandler(LoopbackHandler):
    server_version = "StripeFake/1.0"

    def handle_api(self) -> None:
        parts = urlsplit(self.path)
        request = Request(
            method=self.command,
            path=parts.path,
            query=parts.query,
            headers=cast(Any, self.headers),
            body=self.read_body(),
        )
        api: Api = cast(LoopbackServer, self.server).api
        self._write(api.respond(request))

    def _write(self, reply: Reply) -> None:
        if reply.delay:
            time.sleep(reply.delay)
        if reply.drop:
            self.drop()
            return
        if isinstance(reply.body, str):
            self._write_html(reply)
            return
        self.write_json(reply.status, reply.body, reply.headers)

    def _write_html(self, reply: Reply) -> None:
        data = reply.body.encode()
        self.send_response(reply.status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
