"""Retries, backoff and Retry-After, against httpx.MockTransport (no network)."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from client_payloads import error, run_json
from seedance_client import (
    AsyncSeedanceClient,
    RateLimitedError,
    SeedanceClient,
    SeedanceConnectionError,
    SeedanceTimeoutError,
    ServerError,
)
from seedance_client._retry import RetryPolicy, parse_retry_after

Handler = Callable[[httpx.Request], httpx.Response]


class Recorder:
    """Answers from a script, keeps every request it saw."""

    def __init__(self, *answers: httpx.Response | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    waited: list[float] = []
    monkeypatch.setattr("seedance_client._transport.sleep", waited.append)

    async def fake_sleep(seconds: float) -> None:
        waited.append(seconds)

    monkeypatch.setattr("seedance_client._transport.async_sleep", fake_sleep)
    return waited


def make_client(recorder: Recorder, max_retries: int = 2) -> SeedanceClient:
    http = httpx.Client(transport=httpx.MockTransport(recorder))
    return SeedanceClient(
        "sdk_key", base_url="http://api.test", max_retries=max_retries, http_client=http
    )


def test_get_is_retried_on_5xx_then_answers(sleeps: list[float]) -> None:
    recorder = Recorder(
        httpx.Response(502), httpx.Response(500), httpx.Response(200, json=run_json())
    )
    run = make_client(recorder).get_run("r1")
    assert run.id == run_json()["id"]
    assert len(recorder.requests) == 3
    assert len(sleeps) == 2
    assert 0 <= sleeps[0] <= 0.5
    assert 0 <= sleeps[1] <= 1.0


def test_retries_stop_at_max_retries_and_raise_server_error(sleeps: list[float]) -> None:
    recorder = Recorder(*[httpx.Response(503, json=error("unavailable"))] * 3)
    with pytest.raises(ServerError) as caught:
        make_client(recorder).get_run("r1")
    assert caught.value.status == 503
    assert caught.value.code == "unavailable"
    assert len(recorder.requests) == 3


def test_max_retries_zero_sends_once(sleeps: list[float]) -> None:
    recorder = Recorder(httpx.Response(500))
    with pytest.raises(ServerError):
        make_client(recorder, max_retries=0).get_run("r1")
    assert len(recorder.requests) == 1
    assert sleeps == []


def test_retry_after_seconds_is_honoured(sleeps: list[float]) -> None:
    limited = httpx.Response(429, headers={"Retry-After": "3"}, json=error("rate_limited"))
    recorder = Recorder(limited, httpx.Response(200, json=run_json()))
    make_client(recorder).get_run("r1")
    assert sleeps == [3.0]


def test_retry_after_http_date_is_honoured(sleeps: list[float]) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=5), usegmt=True)
    limited = httpx.Response(429, headers={"Retry-After": when})
    recorder = Recorder(limited, httpx.Response(200, json=run_json()))
    make_client(recorder).get_run("r1")
    assert 3.5 <= sleeps[0] <= 5.0


def test_retry_after_too_long_raises_rate_limited_at_once(sleeps: list[float]) -> None:
    limited = httpx.Response(429, headers={"Retry-After": "3600"}, json=error("rate_limited"))
    with pytest.raises(RateLimitedError) as caught:
        make_client(Recorder(limited)).get_run("r1")
    assert caught.value.retry_after == 3600.0
    assert sleeps == []


def test_parse_retry_after_reads_seconds_dates_and_junk() -> None:
    now = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
    assert parse_retry_after("7", now=now) == 7.0
    assert parse_retry_after("Thu, 03 Dec 2026 12:00:10 GMT", now=now) == 10.0
    assert parse_retry_after("Thu, 03 Dec 2026 11:00:00 GMT", now=now) == 0.0
    assert parse_retry_after("-4", now=now) == 0.0
    assert parse_retry_after("soon", now=now) is None
    assert parse_retry_after(None) is None


def test_backoff_grows_exponentially_and_is_capped() -> None:
    policy = RetryPolicy(backoff_base=1.0, backoff_max=4.0)
    for retry, ceiling in [(0, 1.0), (1, 2.0), (2, 4.0), (6, 4.0)]:
        waits = [policy.backoff(retry) for _ in range(200)]
        assert all(0 <= wait <= ceiling for wait in waits)
        assert max(waits) > ceiling / 2  # jittered across the range, not a constant


def test_create_reuses_its_idempotency_key_across_retries(sleeps: list[float]) -> None:
    recorder = Recorder(
        httpx.ReadTimeout("lost"), httpx.Response(502), httpx.Response(201, json=run_json())
    )
    make_client(recorder).create_run("a fox")
    keys = {request.headers["Idempotency-Key"] for request in recorder.requests}
    assert len(recorder.requests) == 3
    assert len(keys) == 1
    assert len(keys.pop()) == 36  # a uuid4
    assert len({request.headers["X-Request-ID"] for request in recorder.requests}) == 1


def test_create_sends_the_callers_idempotency_key(sleeps: list[float]) -> None:
    recorder = Recorder(httpx.Response(201, json=run_json()))
    make_client(recorder).create_run("a fox", idempotency_key="order-42")
    assert recorder.requests[0].headers["Idempotency-Key"] == "order-42"


def test_each_create_gets_its_own_default_key(sleeps: list[float]) -> None:
    recorder = Recorder(httpx.Response(201, json=run_json()), httpx.Response(201, json=run_json()))
    client = make_client(recorder)
    client.create_run("a fox")
    client.create_run("a fox")
    first, second = (request.headers["Idempotency-Key"] for request in recorder.requests)
    assert first != second


def test_create_retries_while_its_first_request_is_in_flight(sleeps: list[float]) -> None:
    busy = httpx.Response(409, json=error("idempotency_key_in_flight"))
    recorder = Recorder(busy, httpx.Response(201, json=run_json()))
    make_client(recorder).create_run("a fox")
    assert len(recorder.requests) == 2


def test_unsafe_post_is_not_retried_after_a_timeout(sleeps: list[float]) -> None:
    recorder = Recorder(httpx.ReadTimeout("lost"))
    with pytest.raises(SeedanceTimeoutError):
        make_client(recorder).create_webhook_endpoint("https://example.com/h", ["webhook.test"])
    assert len(recorder.requests) == 1


def test_unsafe_post_is_not_retried_after_a_500(sleeps: list[float]) -> None:
    recorder = Recorder(httpx.Response(500))
    with pytest.raises(ServerError):
        make_client(recorder).rotate_webhook_secret("e1")
    assert len(recorder.requests) == 1


@pytest.mark.parametrize(
    "first",
    [
        httpx.Response(429, headers={"Retry-After": "1"}),
        httpx.Response(503),
        httpx.ConnectError("refused"),
    ],
    ids=["429", "503", "connect-error"],
)
def test_unsafe_post_is_retried_when_the_server_cannot_have_acted(
    sleeps: list[float], first: httpx.Response | Exception
) -> None:
    answer = {"event_id": "msg_1", "event_type": "webhook.test"}
    recorder = Recorder(first, httpx.Response(202, json=answer))
    event = make_client(recorder).send_test_webhook("e1")
    assert event.event_id == "msg_1"
    assert len(recorder.requests) == 2


def test_connection_errors_are_retried_then_raised_typed(sleeps: list[float]) -> None:
    recorder = Recorder(*[httpx.ConnectError("refused")] * 3)
    with pytest.raises(SeedanceConnectionError) as caught:
        make_client(recorder).get_limits()
    assert not isinstance(caught.value, SeedanceTimeoutError)
    assert caught.value.request_id == recorder.requests[0].headers["X-Request-ID"]
    assert caught.value.status is None
    assert len(recorder.requests) == 3


@pytest.mark.anyio
async def test_async_client_retries_and_keeps_the_idempotency_key(sleeps: list[float]) -> None:
    recorder = Recorder(
        httpx.Response(429, headers={"Retry-After": "2"}), httpx.Response(201, json=run_json())
    )

    async def handler(request: httpx.Request) -> httpx.Response:
        return recorder(request)

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    async with AsyncSeedanceClient("sdk_key", base_url="http://api.test", http_client=http) as c:
        await c.create_run("a fox")
    await http.aclose()
    assert sleeps == [2.0]
    assert len({request.headers["Idempotency-Key"] for request in recorder.requests}) == 1
