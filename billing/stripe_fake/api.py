"""Routing, auth, idempotency and faults for the fake: every answer is decided here.

The handler only moves bytes; a ``Reply`` tells it what to write, how late, or to hang up.
"""

import base64
import binascii
import copy
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, parse_qsl

from . import (
    billing_portal,
    catalog,
    checkout,
    clockwork,
    controls,
    customers,
    events,
    invoices,
    items,
    meter_events,
    meters,
    pages,
    payment_methods,
    subscriptions,
    summaries,
    thin_events,
)
from .faults import BEFORE_RECORD, Faults
from .forms import ApiError, decode, known
from .store import DAY, Route, Saved, Store, new_id

ROUTES: list[Route] = [
    *customers.ROUTES,
    *subscriptions.ROUTES,
    *items.ROUTES,
    *summaries.ROUTES,
    *meters.ROUTES,
    *meter_events.ROUTES,
    *catalog.ROUTES,
    *invoices.ROUTES,
    *thin_events.ROUTES,
    *events.ROUTES,
    *payment_methods.ROUTES,
    *checkout.ROUTES,
    *billing_portal.ROUTES,
]
KEY_PREFIXES = ("sk_test_", "rk_test_")
MAX_IDEMPOTENCY_KEY = 255
NO_KEY = (
    "You did not provide an API key. You need to provide your API key in the Authorization "
    "header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY')."
)
IDEMPOTENCY_MISMATCH = (
    "Keys for idempotent requests can only be used with the same parameters they were first "
    "used with. Try using a key other than '{key}' if you meant to execute a different request."
)


@dataclass
class Request:
    method: str
    path: str
    query: str
    headers: Mapping[str, str]
    body: bytes


@dataclass
class Reply:
    status: int = 200
    #: JSON for the API; a ``str`` is a hosted page's HTML.
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False
    delay: float = 0.0
    fault: str | None = None


class Api:
    def __init__(
        self, store: Store, faults: Faults, persist: Callable[[], None] = lambda: None
    ) -> None:
        self.store = store
        self.faults = faults
        self.persist = persist

    def respond(self, request: Request) -> Reply:
        request_id = new_id("req")
        if request.path.startswith("/_fake/"):
            reply = self._control(request)
        elif request.path.startswith(pages.PREFIXES):
            with self.store.lock:
                clockwork.tick(self.store)
                self.store.context = {"idempotency_key": None, "request_id": request_id}
                try:
                    page = pages.respond(self.store, request.method, request.path, request.body)
                finally:
                    self.store.context = {}
                if request.method == "POST":
                    self.persist()
            reply = Reply(page.status, page.html, dict(page.headers))
        else:
            try:
                reply = self._serve(request, request_id)
            except ApiError as exc:
                reply = Reply(exc.status, exc.body, exc.headers)
            reply.delay += self.faults.latency
            version = request.headers.get("Stripe-Version")
            if version:
                reply.headers.setdefault("Stripe-Version", version)
        reply.headers.setdefault("Request-Id", request_id)
        self.store.log(
            {
                "method": request.method,
                "path": request.path,
                "status": reply.status,
                "fault": reply.fault,
                "request_id": reply.headers["Request-Id"],
            }
        )
        return reply

    def _serve(self, request: Request, request_id: str) -> Reply:
        api_key = _authenticate(request.headers)
        route, ids = _route(request)
        params = _params(request)
        known(params, route.schema)
        fault = self.faults.take(request.path)
        if fault in BEFORE_RECORD:
            refusal = _injected(fault)
            return Reply(refusal.status, refusal.body, refusal.headers, fault=fault)
        key = request.headers.get("Idempotency-Key") if request.method == "POST" else None
        with self.store.lock:
            clockwork.tick(self.store)
            self.store.context = {"idempotency_key": key, "request_id": request_id}
            try:
                if key:
                    reply = self._idempotent(api_key, key, request, route, params, ids, fault)
                else:
                    reply = self._execute(route, params, ids, fault)
            finally:
                self.store.context = {}
            if request.method != "GET":
                self.persist()
        if fault == "timeout_after_record":
            reply.delay += self.faults.timeout_seconds
        reply.drop = fault == "drop_after_record"
        reply.fault = fault
        return reply

    def _execute(
        self, route: Route, params: dict[str, Any], ids: tuple[str, ...], fault: str | None
    ) -> Reply:
        """Run the endpoint; a refusal raised there is validation, so it is never saved."""
        try:
            body = copy.deepcopy(route.endpoint(self.store, params, *ids))
        except ApiError as exc:
            return Reply(exc.status, exc.body, exc.headers)
        if fault == "500_after_start":
            failure = _injected("500")
            return Reply(failure.status, failure.body, failure.headers)
        return Reply(200, body)

    def _idempotent(
        self,
        api_key: str,
        key: str,
        request: Request,
        route: Route,
        params: dict[str, Any],
        ids: tuple[str, ...],
        fault: str | None,
    ) -> Reply:
        """Replay the saved answer for the same key and params within 24 h, as Stripe does.

        Stripe saves any answer once the endpoint began executing, 500s included; a request
        refused in validation saves nothing, so a retry after one is judged afresh.
        """
        if len(key) > MAX_IDEMPOTENCY_KEY:
            raise ApiError(400, "Idempotency-Key must be at most 255 characters.")
        canonical = json.dumps([request.method, request.path, params], sort_keys=True)
        fingerprint = hashlib.sha256(canonical.encode()).hexdigest()
        saved = self.store.idempotency.get((api_key, key))
        if saved is not None and self.store.now() - saved.created < DAY:
            if saved.fingerprint != fingerprint:
                raise ApiError(400, IDEMPOTENCY_MISMATCH.format(key=key), type="idempotency_error")
            headers = {"Idempotent-Replayed": "true", "Original-Request": saved.request_id}
            return Reply(saved.status, json.loads(saved.body), headers)
        reply = self._execute(route, params, ids, fault)
        if reply.status == 200 or fault == "500_after_start":
            request_id = self.store.context["request_id"]
            self.store.idempotency[(api_key, key)] = Saved(
                fingerprint, reply.status, json.dumps(reply.body), self.store.now(), request_id
            )
        return reply

    def _control(self, request: Request) -> Reply:
        status, body = controls.answer(
            self.store, self.faults, self.persist, request.method, request.path, request.body
        )
        return Reply(status, body)


def _params(request: Request) -> dict[str, Any]:
    """v1 speaks bracketed forms (query or body); v2 speaks JSON bodies and flat queries."""
    if request.path.startswith("/v2/"):
        if request.method == "POST":
            try:
                body = json.loads(request.body or b"{}")
            except ValueError:
                raise ApiError(400, "The request body is not valid JSON.") from None
            if not isinstance(body, dict):
                raise ApiError(400, "The request body must be a JSON object.")
            return body
        query = parse_qs(request.query, keep_blank_values=True)
        return {name: values if len(values) > 1 else values[0] for name, values in query.items()}
    raw = request.body.decode("utf-8", "replace") if request.method == "POST" else request.query
    return decode(parse_qsl(raw, keep_blank_values=True))


def _authenticate(headers: Mapping[str, str]) -> str:
    """Bearer (what the SDK sends) or Basic (``curl -u sk_test_..:``) with a test-mode key."""
    scheme, _, credential = headers.get("Authorization", "").strip().partition(" ")
    key = credential.strip()
    if scheme.lower() == "basic":
        try:
            key = base64.b64decode(key, validate=True).decode().partition(":")[0]
        except (binascii.Error, UnicodeDecodeError):
            key = ""
    elif scheme.lower() != "bearer":
        key = ""
    if not key:
        raise ApiError(401, NO_KEY)
    if not key.startswith(KEY_PREFIXES):
        masked = f"{key[:8]}{'*' * max(len(key) - 12, 4)}{key[-4:]}"
        raise ApiError(401, f"Invalid API Key provided: {masked}")
    return key


def _route(request: Request) -> tuple[Route, tuple[str, ...]]:
    for route in ROUTES:
        if route.method == request.method and (match := route.pattern.match(request.path)):
            return route, match.groups()
    raise ApiError(
        404,
        f"Unrecognized request URL ({request.method}: {request.path}). "
        "Please see https://stripe.com/docs or we can help at https://support.stripe.com/.",
        code="resource_missing",
    )


def _injected(fault: str | None) -> ApiError:
    if fault == "429":
        return ApiError(
            429,
            "Request rate limit exceeded. (Injected by the Stripe fake.)",
            code="rate_limit",
            headers={"Stripe-Should-Retry": "true"},
        )
    return ApiError(
        500, "An unknown error occurred. (Injected by the Stripe fake.)", type="api_error"
    )
