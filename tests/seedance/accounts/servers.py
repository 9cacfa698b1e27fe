"""Two real web processes on the test database and the shared cache, as behind a load
balancer: one host name, one client address, requests alternating between them."""

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from django.conf import settings

from tests.fixtures.services import database_url

ROOT = Path(__file__).resolve().parents[3]
HOST = "studio.test"
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """One process; its client keeps that process's cookies (CSRF, session)."""

    url: str
    host: str = HOST
    client: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.client = httpx.Client(base_url=self.url, headers={"Host": self.host}, timeout=20)

    def form_post(self, path: str, data: dict[str, str]) -> httpx.Response:
        """GET the form (for its CSRF token), then POST it as a browser would."""
        page = self.client.get(path, follow_redirects=True)
        token = CSRF_INPUT.search(page.text)
        assert token, page.text
        return self.client.post(
            page.url.raw_path.decode(), data={**data, "csrfmiddlewaretoken": token.group(1)}
        )


@contextmanager
def two_servers() -> Iterator[list[Server]]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "CACHE_KEY_PREFIX": settings.CACHES["default"]["KEY_PREFIX"],
        "ALLOWED_HOSTS": HOST,
        "DEBUG": "0",
    }
    processes: list[subprocess.Popen[Any]] = []
    servers: list[Server] = []
    try:
        for _ in range(2):
            port = free_port()
            processes.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "manage.py",
                        "runserver",
                        f"127.0.0.1:{port}",
                        "--noreload",
                        "--skip-checks",
                    ],
                    cwd=ROOT,
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
            servers.append(Server(f"http://127.0.0.1:{port}"))
        for server, process in zip(servers, processes, strict=True):
            _wait_until_up(server, process)
        yield servers
    finally:
        for server in servers:
            server.client.close()
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_until_up(server: Server, process: subprocess.Popen[Any]) -> None:
    deadline = time.monotonic() + 30
    while True:
        assert process.poll() is None, "the web server exited"
        try:
            if server.client.get("/accounts/login/").status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "the web server did not start in 30 s"
        time.sleep(0.1)
