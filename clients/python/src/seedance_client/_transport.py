"""One request with its retries, for the sync and the async client alike.

A ``Call`` says what to send, how safe a repeat is and how to read the answer; the two
``send`` functions are the only places that touch the network. Every attempt of one call
sends the same headers: a create's ``Idempotency-Key``, and an ``X-Request-ID`` the server
logs and echoes, so support can find each attempt, even one that never got an answer.
"""

from asyncio import sleep as async_sleep
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from time import sleep
from typing import Any
from uuid import uuid4

import httpx

from seedance_client import errors
from seedance_client._retry import (
    RetryPolicy,
    Safety,
    exception_is_retryable,
    parse_retry_after,
    response_is_retryable,
)

Params = Sequence[tuple[str, str]]


@dataclass(frozen=True)
class Call[T]:
    operation_id: str
    method: str
    path: str
    parse: Callable[[httpx.Response], T]
    safety: Safety = Safety.IDEMPOTENT
    params: Params = ()
    json: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    request_id: str = field(default_factory=lambda: f"sdk-{uuid4().hex}")


@dataclass(frozen=True)
class Target:
    """Where and as whom every call goes: the API's root URL, the key, an optional timeout."""

    api_url: str
    #: Out of the repr: it carries the API key, and reprs end up in logs and tracebacks.
    headers: Mapping[str, str] = field(repr=False)
    timeout: httpx.Timeout | None = None

    def request(self, client: httpx.Client | httpx.AsyncClient, call: Call[Any]) -> httpx.Request:
        return client.build_request(
            call.method,
            self.api_url + call.path,
            params=list(call.params) or None,
            json=call.json,
            headers={**self.headers, "X-Request-ID": call.request_id, **call.headers},
            timeout=self.timeout if self.timeout is not None else httpx.USE_CLIENT_DEFAULT,
        )


def send[T](client: httpx.Client, target: Target, call: Call[T], policy: RetryPolicy) -> T:
    retry = 0
    while True:
        try:
            response = client.send(target.request(client, call))
        except httpx.TransportError as exc:
            delay = _delay_after_exception(exc, call, policy, retry)
        else:
            wait = _delay_after_response(response, call, policy, retry)
            if wait is None:
                return _answer(response, call)
            response.close()
            delay = wait
        sleep(delay)
        retry += 1


async def send_async[T](
    client: httpx.AsyncClient, target: Target, call: Call[T], policy: RetryPolicy
) -> T:
    retry = 0
    while True:
        try:
            response = await client.send(target.request(client, call))
        except httpx.TransportError as exc:
            delay = _delay_after_exception(exc, call, policy, retry)
        else:
            wait = _delay_after_response(response, call, policy, retry)
            if wait is None:
                return _answer(response, call)
            await response.aclose()
            delay = wait
        await async_sleep(delay)
        retry += 1


def _delay_after_response(
    response: httpx.Response, call: Call[Any], policy: RetryPolicy, retry: int
) -> float | None:
    if response.is_success:
        return None
    if not response_is_retryable(response, call.safety, _error_detail(response).get("code")):
        return None
    return policy.delay_after_response(response, retry)


def _delay_after_exception(
    exc: httpx.TransportError, call: Call[Any], policy: RetryPolicy, retry: int
) -> float:
    delay = (
        policy.delay_after_exception(exc, retry)
        if exception_is_retryable(exc, call.safety)
        else None
    )
    if delay is None:
        raise _transport_error(exc, call) from exc
    return delay


def _answer[T](response: httpx.Response, call: Call[T]) -> T:
    if not response.is_success:
        raise error_from_response(response, request_id=call.request_id)
    return call.parse(response)


def error_from_response(
    response: httpx.Response, *, request_id: str | None = None
) -> errors.SeedanceError:
    """The typed error for an answer that is not a 2xx, from the API's error envelope."""
    detail = _error_detail(response)
    status = response.status_code
    message = str(detail.get("message") or response.reason_phrase or f"HTTP {status}")
    fields = detail.get("fields")
    kwargs: dict[str, Any] = {
        "status": status,
        "code": detail.get("code"),
        "fields": fields if isinstance(fields, dict) else None,
        "request_id": response.headers.get("X-Request-ID", request_id),
        "response": response,
    }
    error_class = errors.error_class_for(status)
    if error_class is errors.RateLimitedError:
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        return errors.RateLimitedError(message, retry_after=retry_after, **kwargs)
    return error_class(message, **kwargs)


def _error_detail(response: httpx.Response) -> dict[str, Any]:
    """The envelope's ``error`` object; empty when the body is not ours (a proxy's page)."""
    try:
        body = response.json()
    except ValueError:
        return {}
    detail = body.get("error") if isinstance(body, dict) else None
    return detail if isinstance(detail, dict) else {}


def _transport_error(exc: httpx.TransportError, call: Call[Any]) -> errors.SeedanceError:
    where = f"{call.method} {call.path}"
    if isinstance(exc, httpx.TimeoutException):
        return errors.SeedanceTimeoutError(f"{where} timed out: {exc}", request_id=call.request_id)
    return errors.SeedanceConnectionError(f"{where} failed: {exc!r}", request_id=call.request_id)
