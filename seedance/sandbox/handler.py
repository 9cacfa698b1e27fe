"""HTTP I/O for the sandbox: read a request, let ``Api`` decide, write (or withhold) the answer."""

import time
import uuid
from typing import Any, cast
from urllib.parse import parse_qs, urlsplit

from seedance.loopback import LoopbackHandler, LoopbackServer
from seedance.runflow.signing import REQUEST_ID_HEADER

from .api import Api, Reply, Request

CHUNK = 256 * 1024


class SandboxHandler(LoopbackHandler):
    server_version = "RunflowSandbox/1.0"

    def handle_api(self) -> None:
        parts = urlsplit(self.path)
        request = Request(
            method=self.command,
            path=parts.path,
            query={key: values[-1] for key, values in parse_qs(parts.query).items()},
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
        if reply.file is not None and reply.span is not None:
            self._write_file(reply)
            return
        # Runflow answers every request with an id its support can look up.
        headers = {REQUEST_ID_HEADER: f"req_{uuid.uuid4().hex}", **reply.headers}
        self.write_json(reply.status, reply.body, headers)

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
