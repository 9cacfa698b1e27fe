"""A stand-in for Runflow's JavaScript SDK (runflow-io/runflow-js, packages/sdk), written
from what it relies on (../shared/RUNFLOW-API.md), not from our server code: the tests
drive the compatible surface only the way that SDK would.

- ``Authorization: Bearer <key>``, a key of letters, digits and ``_`` only;
- answers are read only when ``Content-Type`` is ``application/json``;
- a run's ``id`` is a UUID and every run carries ``status_code``;
- ``wait()`` polls ``GET /v1/runs/{id}`` every 2 s; only succeeded, failed and canceled
  are terminal; a failure's reason is read from ``error.message``;
- an error answer's ``code`` and ``message`` are read flat or under ``error``.
"""

import re
import time
import uuid
from dataclasses import dataclass
from typing import Any

import httpx

KEY_PATTERN = re.compile(r"^[a-z0-9_]+$", re.IGNORECASE)
TERMINAL = ("succeeded", "failed", "canceled")
POLL_SECONDS = 2.0


class RunflowSdkError(Exception):
    def __init__(self, status: int, code: str, message: str, body: dict[str, Any]) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message, self.body = status, code, message, body


@dataclass
class RunflowSdk:
    base_url: str  # what an app gives the SDK, e.g. https://api.runflow.io: it adds /v1
    api_key: str

    def __post_init__(self) -> None:
        if not KEY_PATTERN.match(self.api_key):
            raise ValueError("The SDK refuses a key that is not letters, digits and _")
        self.http = httpx.Client(
            base_url=self.base_url.rstrip("/") + "/v1",
            headers={"Authorization": f"Bearer {self.api_key}"},
            timeout=30,
        )

    def create(self, model_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._run(self.http.post(f"/models/{model_id}/runs", json=body))

    def get(self, run_id: str) -> dict[str, Any]:
        return self._run(self.http.get(f"/runs/{run_id}"))

    def wait(self, run_id: str, *, timeout: float = 90.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            run = self.get(run_id)
            if run["status_code"] in TERMINAL:
                return run
            if time.monotonic() > deadline:
                raise TimeoutError(f"run {run_id} still {run['status_code']}")
            time.sleep(POLL_SECONDS)

    def _run(self, response: httpx.Response) -> dict[str, Any]:
        body = self._json(response)
        if response.is_error:
            error = body.get("error") if isinstance(body.get("error"), dict) else body
            raise RunflowSdkError(
                response.status_code, str(error.get("code")), str(error.get("message")), body
            )
        uuid.UUID(body["id"])
        assert isinstance(body["status_code"], str)
        return body

    def _json(self, response: httpx.Response) -> dict[str, Any]:
        content_type = response.headers.get("content-type", "")
        if content_type.split(";")[0].strip() != "application/json":
            raise AssertionError(f"not JSON ({content_type!r}): the SDK would not read it")
        body = response.json()
        assert isinstance(body, dict)
        return body
