"""Runflow's ``/v1`` endpoints, ``/media`` and the ``/_sandbox/faults`` controls, minus HTTP I/O.

Each request becomes a ``Reply``; the handler writes it (or, for an injected fault, drops
the connection or answers late), so every answer shape is decided here.
"""

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .engine import MODEL_ID, Sandbox
from .faults import GLOBAL, FaultError
from .listing import parse_limit, parse_query
from .media import RangeNotSatisfiable, parse_range
from .store import STATUSES
from .validation import create_errors

KEY_FORMAT = re.compile(r"^rf_(live|svc)_[A-Za-z0-9_]+$")
ERROR_CODES = {
    400: "INVALID_REQUEST",
    422: "VALIDATION_ERROR",
    402: "INSUFFICIENT_CREDIT",
    409: "CONFLICT",
    429: "RATE_LIMITED",
    500: "INTERNAL_ERROR",
    502: "BAD_GATEWAY",
    503: "MODEL_UNAVAILABLE",
    504: "GATEWAY_TIMEOUT",
}
RUN_PATH = re.compile(r"^/v1/runs/([^/]+)(/callback|/callback-redeliveries)?$")
CANCEL_PATH = re.compile(r"^/v1/admin/runs/([^/]+)/cancellation$")
CREATE_PATH = re.compile(r"^/v1/models/(.+)/runs$")
RUN_ROUTES = {
    ("GET", None): "get_run",
    ("GET", "/callback"): "callback_history",
    ("POST", "/callback-redeliveries"): "redeliver",
}


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: Mapping[str, str]
    body: bytes
    api_key: str = ""


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    file: Path | None = None
    span: tuple[int, int] | None = None
    drop: bool = False
    delay: float = 0.0


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.reply = Reply(status, {"code": code, "message": message, **extra})


class Api:
    def __init__(self, sandbox: Sandbox, api_keys: frozenset[str] | None) -> None:
        self.sandbox = sandbox
        self.api_keys = api_keys

    def respond(self, request: Request) -> Reply:
        try:
            return self._route(request)
        except ApiError as exc:
            return exc.reply

    def _route(self, request: Request) -> Reply:
        method, path = request.method, request.path
        if path.startswith("/media/") and method in ("GET", "HEAD"):
            return self.media(request, path.removeprefix("/media/"))
        if path == "/_sandbox/faults":
            return self.faults(request)
        if path == "/v1/health":
            return Reply(200, {"status": "ok"})
        if not path.startswith("/v1/"):
            raise ApiError(404, "NOT_FOUND", f"No route for {path}.")
        self._authenticate(request)
        if method == "GET" and path == "/v1/runs":
            return self.list_runs(request)
        if method == "GET" and path == "/v1/runs/statuses":
            items = [
                {"code": code, "terminal": terminal, "description": text}
                for code, (terminal, text) in STATUSES.items()
            ]
            return Reply(200, {"items": items})
        if method == "GET" and path == "/v1/billing/balance":
            return Reply(200, {"balance_cents": self.sandbox.balance_cents, "currency": "usd"})
        if (match := CREATE_PATH.match(path)) and method == "POST":
            return self.create(request, match.group(1))
        if (match := CANCEL_PATH.match(path)) and method == "POST":
            return self.cancel(request, match.group(1))
        if (match := RUN_PATH.match(path)) and (method, match.group(2)) in RUN_ROUTES:
            return getattr(self, RUN_ROUTES[(method, match.group(2))])(match.group(1))
        if CREATE_PATH.match(path) or CANCEL_PATH.match(path) or RUN_PATH.match(path):
            raise ApiError(405, "METHOD_NOT_ALLOWED", f"{method} is not allowed here.")
        raise ApiError(404, "NOT_FOUND", f"No route for {path}.")

    def _authenticate(self, request: Request) -> None:
        scheme, _, key = request.headers.get("Authorization", "").partition(" ")
        key = key.strip() if scheme == "Bearer" else ""
        known = self.api_keys
        if not (key in known if known is not None else KEY_FORMAT.match(key)):
            raise ApiError(401, "UNAUTHORIZED", "Missing or invalid API key.")
        request.api_key = key

    def create(self, request: Request, model_id: str) -> Reply:
        if model_id != MODEL_ID:
            raise ApiError(404, "MODEL_NOT_FOUND", f"No model {model_id!r}.")
        body = _object(request.body)
        client_ref = body.get("client_ref") if isinstance(body.get("client_ref"), str) else None
        data = body.get("input")
        prompt = str(data.get("prompt", "")) if isinstance(data, dict) else ""
        rules = self.sandbox.faults
        status = rules.take_error("create_errors", client_ref=client_ref, run_id=None)
        if status is not None:
            faults = rules.resolve(client_ref=client_ref, run_id=None, prompt=prompt)
            raise _injected(status, faults.retry_after)
        errors = create_errors(body)
        if errors:
            raise ApiError(422, "VALIDATION_ERROR", "The request is invalid.", errors=errors)
        made = {
            "input": body["input"],
            "client_ref": client_ref,
            "callback_url": body.get("callback_url"),
            "metadata": body.get("metadata"),
        }
        lost = rules.take_lost_answer(client_ref=client_ref, prompt=prompt)
        if lost is None:
            return Reply(201, self.sandbox.store.create(**made).to_json())
        faults = rules.resolve(client_ref=client_ref, run_id=None, prompt=prompt)
        run = None
        if faults.lose_create_makes_run:
            if faults.lose_create_materialize_seconds:
                self.sandbox.create_later(faults.lose_create_materialize_seconds, **made)
            else:
                run = self.sandbox.store.create(**made)
        if lost == "500":
            raise ApiError(500, "INTERNAL_ERROR", "Something went wrong.")
        if lost == "drop" or run is None:
            # A timeout with no run to answer with yet: the connection dies after the wait.
            delay = faults.lose_create_timeout if lost == "timeout" else 0.0
            return Reply(drop=True, delay=delay)
        return Reply(201, run.to_json(), delay=faults.lose_create_timeout)

    def get_run(self, run_id: str) -> Reply:
        run = self.sandbox.store.get(run_id)
        client_ref = run.client_ref if run is not None else None
        rules = self.sandbox.faults
        status = rules.take_error("get_errors", client_ref=client_ref, run_id=run_id)
        if status is not None:
            faults = rules.resolve(client_ref=client_ref, run_id=run_id, prompt="")
            raise _injected(status, faults.retry_after)
        return Reply(200, _found(self.sandbox.snapshot(run_id)))

    def callback_history(self, run_id: str) -> Reply:
        return Reply(200, {"items": _found(self.sandbox.history(run_id))})

    def redeliver(self, run_id: str) -> Reply:
        _found(self.sandbox.store.get(run_id))
        request_id = self.sandbox.redeliver(run_id)
        if request_id is None:
            raise ApiError(409, "CONFLICT", "The run has not ended or has no callback_url.")
        return Reply(202, {"run_id": run_id, "request_id": request_id, "status": "queued"})

    def cancel(self, request: Request, run_id: str) -> Reply:
        if not request.api_key.startswith("rf_svc_"):
            raise ApiError(403, "PERMISSION_DENIED", "Cancelling needs a service key (rf_svc_).")
        reason = _object(request.body).get("reason")
        if not isinstance(reason, str) or not 3 <= len(reason) <= 500:
            raise _invalid("reason", "Required, 3 to 500 characters.")
        changed, run = _found(self.sandbox.cancel(run_id, reason))
        return Reply(201 if changed else 200, run)

    def list_runs(self, request: Request) -> Reply:
        status = self.sandbox.faults.take_error("list_errors", client_ref=None, run_id=None)
        if status is not None:
            faults = self.sandbox.faults.resolve(client_ref=None, run_id=None, prompt="")
            raise _injected(status, faults.retry_after)
        try:
            limit = parse_limit(request.query.get("limit"))
        except ValueError as exc:
            raise _invalid("limit", str(exc)) from None
        try:
            query = parse_query(request.query.get("q", ""))
        except ValueError as exc:
            raise _invalid("q", str(exc)) from None
        try:
            return Reply(200, self.sandbox.page(query, limit, request.query.get("pq")))
        except ValueError as exc:
            raise _invalid("pq", str(exc)) from None

    def faults(self, request: Request) -> Reply:
        rules = self.sandbox.faults
        if request.method == "DELETE":
            body = _object(request.body) if request.body else {}
            rules.clear(request.query.get("scope") or body.get("scope"))
        elif request.method == "POST":
            body = _object(request.body)
            scope = body.pop("scope", GLOBAL)
            if not isinstance(scope, str) or not scope:
                raise _invalid("scope", "Must be 'global', a client_ref or a run id.")
            try:
                rules.set_for(scope, **body)
            except FaultError as exc:
                raise _invalid("faults", str(exc)) from None
        elif request.method != "GET":
            raise ApiError(405, "METHOD_NOT_ALLOWED", f"{request.method} is not allowed here.")
        return Reply(200, rules.snapshot())

    def media(self, request: Request, name: str) -> Reply:
        """A rendered video (shared by runs with the same settings); ``?run=`` names the
        run it was made for, whose media faults apply."""
        run = self.sandbox.store.get(request.query.get("run", ""))
        delay = 0.0
        if run is not None:
            rules = self.sandbox.faults
            status = rules.take_error("media_errors", client_ref=run.client_ref, run_id=run.id)
            if status is not None:
                raise _injected(status, self.sandbox.faults_for(run).retry_after)
            delay = self.sandbox.faults_for(run).media_delay
        path = self.sandbox.renderer.path(name)
        if path is None:
            raise ApiError(404, "NOT_FOUND", "No such media file.")
        size = path.stat().st_size
        headers = {"Accept-Ranges": "bytes", "Cache-Control": "public, max-age=3600"}
        try:
            span = parse_range(request.headers.get("Range"), size)
        except RangeNotSatisfiable:
            error = ApiError(416, "RANGE_NOT_SATISFIABLE", "The range is outside the file.")
            error.reply.headers["Content-Range"] = f"bytes */{size}"
            raise error from None
        if span is None:
            return Reply(200, headers=headers, file=path, span=(0, size - 1), delay=delay)
        headers["Content-Range"] = f"bytes {span[0]}-{span[1]}/{size}"
        return Reply(206, headers=headers, file=path, span=span, delay=delay)


def _object(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        raise ApiError(400, "INVALID_REQUEST", "The body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise ApiError(400, "INVALID_REQUEST", "The body must be a JSON object.")
    return body


def _found(value: Any) -> Any:
    if value is None:
        raise ApiError(404, "RUN_NOT_FOUND", "No such run.")
    return value


def _invalid(field: str, message: str) -> ApiError:
    errors = [{"field": field, "message": message}]
    return ApiError(422, "VALIDATION_ERROR", f"{field}: {message}", errors=errors)


def _injected(status: int, retry_after: int) -> ApiError:
    """The answer for an injected error status, with Retry-After where Runflow sends it."""
    error = ApiError(status, ERROR_CODES.get(status, "SANDBOX_FAULT"), f"Injected HTTP {status}.")
    if status in (429, 503):
        error.reply.headers["Retry-After"] = str(retry_after)
    return error
