"""The unauthenticated ``/_fake`` surface: faults, timing, endpoints, flush, reset.

What a test or the demo does to the fake that no Stripe API offers: inject faults, change
the timing of Stripe's asynchronous work, register endpoints with a known secret.
"""

import json
from collections.abc import Callable
from typing import Any

from . import clockwork, events, thin_events
from .faults import FaultError, Faults
from .store import Store

Answer = tuple[int, dict[str, Any]]


def answer(
    store: Store,
    faults: Faults,
    persist: Callable[[], None],
    method: str,
    path: str,
    body: bytes,
) -> Answer:
    try:
        if path == "/_fake/faults" and method in ("GET", "POST", "DELETE"):
            if method == "POST":
                faults.configure(**_json_object(body))
            elif method == "DELETE":
                faults.clear()
            return 200, faults.snapshot()
        if path == "/_fake/config" and method in ("GET", "POST"):
            if method == "POST":
                try:
                    store.config.configure(**_json_object(body))
                except ValueError as exc:
                    raise FaultError(str(exc)) from None
            return 200, store.config.snapshot()
        if path == "/_fake/destinations" and method == "POST":
            return _endpoint(store, persist, body, thin_events.add_destination)
        if path == "/_fake/webhook_endpoints" and method == "POST":
            return _endpoint(store, persist, body, events.add_webhook_endpoint)
    except FaultError as exc:
        return _error(str(exc))
    if path == "/_fake/flush" and method == "POST":
        clockwork.tick(store, force=True)
        sent = clockwork.deliver(store, force=True)
        persist()
        return 200, {"delivered": sent}
    if path == "/_fake/meter_events" and method == "GET":
        with store.lock:
            meter_events = [dict(event) for event in store.events]
        return 200, {"object": "list", "data": meter_events}
    if path == "/_fake/reset" and method == "POST":
        store.reset()
        faults.clear()
        persist()
        return 200, {"reset": True}
    return _error(f"No control {method} {path}.", status=404)


def _endpoint(
    store: Store,
    persist: Callable[[], None],
    raw: bytes,
    add: Callable[[Store, str, list[str], str | None], dict[str, Any]],
) -> Answer:
    """A thin-event destination or a v1 webhook endpoint with a secret of the caller's
    choosing (Stripe would pick one itself)."""
    body = _json_object(raw)
    url, secret = body.get("url"), body.get("secret")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise FaultError("url: must be an http(s) URL")
    if secret is not None and not isinstance(secret, str):
        raise FaultError("secret: must be a string")
    with store.lock:
        made = add(store, url, list(body.get("enabled_events", ["*"])), secret)
        persist()
    return 200, made


def _json_object(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        raise FaultError("the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise FaultError("the body must be a JSON object")
    return body


def _error(message: str, status: int = 400) -> Answer:
    return status, {"error": {"type": "invalid_request_error", "message": message}}
