"""RunflowClient: error mapping and retry policy, with the HTTP layer faked at the edge."""

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from seedance import exceptions as exc
from seedance.runflow import client as client_module
from seedance.runflow.client import RunflowClient, runflow_client
from seedance.runflow.payloads import create_body

API_KEY = "rf_live_TopSecretKey_123"
BASE_URL = "http://runflow.test/v1"
MODEL_ID = "bytedance/seedance/2.0/fast/text-to-video"
RUN_ID = "6f1c2a8e-3b7d-4c1e-9a52-0d4f7b9e1a10"

Reply = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


def run_json(**overrides: Any) -> dict[str, Any]:
    return {
        "id": RUN_ID,
        "status_code": "queued",
        "client_ref": "run_1",
        "created_at": "2026-03-01T12:00:00+00:00",
        **overrides,
    }


def html(status: int) -> httpx.Response:
    return httpx.Response(status, html="<html><body><h1>Bad Gateway</h1></body></html>")


class FakeRunflow:
    """Answers each request with the next scripted reply and records what was sent."""

    def __init__(self, *replies: Reply) -> None:
        self.replies = list(replies)
        self.requests: list[httpx.Request] = []
        self.sleeps: list[float] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        reply = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        if isinstance(reply, Exception):
            raise reply
        if isinstance(reply, httpx.Response):
            return reply
        return reply(request)

    def client(self, **kwargs: Any) -> RunflowClient:
        options: dict[str, Any] = {"base_url": BASE_URL, "api_key": API_KEY, "max_attempts": 5}
        return RunflowClient(
            **{**options, **kwargs},
            transport=httpx.MockTransport(self.handle),
            sleep=self.sleeps.append,
        )


def create(fake: FakeRunflow) -> Any:
    return fake.client().create_run(
        run_input={"prompt": "a cat"}, client_ref="run_1", callback_url="http://cb.test/hook"
    )


def test_requests_carry_bearer_key_user_agent_and_json_accept() -> None:
    fake = FakeRunflow(httpx.Response(200, json=run_json()))
    fake.client().get_run(RUN_ID)
    headers = fake.requests[0].headers
    assert headers["Authorization"] == f"Bearer {API_KEY}"
    assert headers["User-Agent"].startswith("seedance-for-tenants/")
    assert headers["Accept"] == "application/json"


def test_create_posts_the_payload_body_to_the_model_path_under_v1() -> None:
    fake = FakeRunflow(httpx.Response(201, json=run_json()))
    run = create(fake)
    request = fake.requests[0]
    assert request.method == "POST"
    assert request.url.path == f"/v1/models/{MODEL_ID}/runs"
    assert json.loads(request.content) == create_body(
        run_input={"prompt": "a cat"}, client_ref="run_1", callback_url="http://cb.test/hook"
    )
    assert run.id == RUN_ID
    assert run.created_at == datetime(2026, 3, 1, 12, tzinfo=UTC)


def test_flat_422_body_is_rejected_with_field_errors_and_not_retried() -> None:
    errors = [{"field": "input.duration", "message": "must be auto or 4..15"}]
    body = {"code": "VALIDATION_ERROR", "message": "Invalid input", "errors": errors}
    fake = FakeRunflow(httpx.Response(422, json=body))
    with pytest.raises(exc.RunflowRejected) as caught:
        create(fake)
    assert caught.value.code == "VALIDATION_ERROR"
    assert caught.value.message == "Invalid input"
    assert caught.value.errors == errors
    assert caught.value.status_code == 422
    assert len(fake.requests) == 1


def test_nested_error_body_is_parsed() -> None:
    body = {"error": {"code": "INSUFFICIENT_CREDIT", "message": "Top up your balance"}}
    fake = FakeRunflow(httpx.Response(402, json=body))
    with pytest.raises(exc.RunflowOutOfCredit) as caught:
        create(fake)
    assert caught.value.code == "INSUFFICIENT_CREDIT"
    assert caught.value.message == "Top up your balance"


@pytest.mark.parametrize(
    ("status", "error_class"),
    [
        (400, exc.RunflowRejected),
        (401, exc.RunflowAuthError),
        (403, exc.RunflowAuthError),
        (402, exc.RunflowOutOfCredit),
        (404, exc.RunflowNotFound),
        (409, exc.RunflowConflict),
        (422, exc.RunflowRejected),
    ],
)
def test_client_errors_map_to_their_class_and_are_never_retried(
    status: int, error_class: type[exc.RunflowError]
) -> None:
    fake = FakeRunflow(httpx.Response(status, json={"code": "X", "message": "no"}))
    with pytest.raises(error_class) as caught:
        fake.client().get_run(RUN_ID)
    assert caught.value.status_code == status
    assert len(fake.requests) == 1
    assert fake.sleeps == []


def test_html_502_is_unavailable_with_an_unknown_outcome() -> None:
    fake = FakeRunflow(html(502))
    with pytest.raises(exc.RunflowUnavailable) as caught:
        fake.client().get_run(RUN_ID)
    assert caught.value.status_code == 502
    assert caught.value.code == "UNAVAILABLE"
    assert caught.value.outcome_unknown is True
    assert "HTTP 502" in caught.value.message


def test_request_id_comes_from_header_or_body() -> None:
    fake = FakeRunflow(
        httpx.Response(404, json={"code": "RUN_NOT_FOUND"}, headers={"Runflow-Request-Id": "h1"}),
        httpx.Response(404, json={"code": "RUN_NOT_FOUND", "request_id": "b1"}),
    )
    client = fake.client()
    with pytest.raises(exc.RunflowNotFound) as by_header:
        client.get_run(RUN_ID)
    with pytest.raises(exc.RunflowNotFound) as by_body:
        client.get_run(RUN_ID)
    assert by_header.value.request_id == "h1"
    assert by_body.value.request_id == "b1"


def test_429_retry_after_seconds_is_honoured() -> None:
    limited = httpx.Response(429, json={"code": "RATE_LIMITED"}, headers={"Retry-After": "3"})
    fake = FakeRunflow(limited, httpx.Response(200, json=run_json()))
    assert fake.client().get_run(RUN_ID).id == RUN_ID
    assert fake.sleeps == [3.0]


def test_429_retry_after_http_date_is_honoured() -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=6), usegmt=True)
    limited = httpx.Response(429, json={"code": "RATE_LIMITED"}, headers={"Retry-After": when})
    fake = FakeRunflow(limited)
    with pytest.raises(exc.RunflowRateLimited) as caught:
        fake.client(max_attempts=2).get_run(RUN_ID)
    assert caught.value.retry_after is not None
    assert 4 <= caught.value.retry_after <= 6
    assert len(fake.sleeps) == 1
    assert 4 <= fake.sleeps[0] <= 6


@pytest.mark.parametrize(
    "reply",
    [
        httpx.Response(500, json={"code": "INTERNAL", "message": "boom"}),
        html(502),
        httpx.Response(504),
        httpx.ReadTimeout("timed out"),
        httpx.ConnectTimeout("timed out"),
        httpx.ConnectError("connection refused"),
        httpx.RemoteProtocolError("server disconnected"),
    ],
    ids=["500", "html-502", "504", "read-timeout", "connect-timeout", "connect-error", "dropped"],
)
def test_create_is_never_resent_when_the_outcome_is_unknown(reply: Reply) -> None:
    fake = FakeRunflow(reply, httpx.Response(201, json=run_json()))
    with pytest.raises(exc.RunflowError) as caught:
        create(fake)
    assert caught.value.outcome_unknown is True
    assert len(fake.requests) == 1
    assert fake.sleeps == []


def test_create_is_never_resent_after_a_timeout() -> None:
    cause = httpx.ReadTimeout("timed out")
    fake = FakeRunflow(cause)
    with pytest.raises(exc.RunflowTransportError) as caught:
        create(fake)
    assert caught.value.__cause__ is cause
    assert caught.value.retryable is True
    assert len(fake.requests) == 1


@pytest.mark.parametrize("status", [429, 503])
def test_create_refused_before_creation_is_retried_up_to_five_attempts(status: int) -> None:
    fake = FakeRunflow(httpx.Response(status, json={"code": "MODEL_UNAVAILABLE"}))
    with pytest.raises((exc.RunflowRateLimited, exc.RunflowUnavailable)) as caught:
        create(fake)
    assert caught.value.outcome_unknown is False
    assert len(fake.requests) == 5
    assert len(fake.sleeps) == 4


def test_create_succeeds_after_429_then_503() -> None:
    fake = FakeRunflow(
        httpx.Response(429, json={"code": "RATE_LIMITED"}),
        httpx.Response(503, json={"code": "MODEL_UNAVAILABLE"}),
        httpx.Response(201, json=run_json()),
    )
    assert create(fake).id == RUN_ID
    assert len(fake.requests) == 3


@pytest.mark.parametrize(
    "body",
    [b"<html>created?</html>", json.dumps({"status_code": "queued"}).encode()],
    ids=["not-json", "no-id"],
)
def test_create_2xx_without_a_run_is_bad_response_with_unknown_outcome(body: bytes) -> None:
    fake = FakeRunflow(httpx.Response(201, content=body))
    with pytest.raises(exc.RunflowError) as caught:
        create(fake)
    assert caught.value.code == "BAD_RESPONSE"
    assert caught.value.outcome_unknown is True
    assert len(fake.requests) == 1


def test_get_is_retried_on_500_and_transport_errors() -> None:
    fake = FakeRunflow(
        httpx.Response(500),
        httpx.ConnectError("refused"),
        httpx.Response(200, json=run_json(status_code="running")),
    )
    assert fake.client().get_run(RUN_ID).status == "running"
    assert len(fake.requests) == 3
    assert len(fake.sleeps) == 2
    assert fake.requests[0].url.path == f"/v1/runs/{RUN_ID}"


def test_get_gives_up_after_max_attempts() -> None:
    fake = FakeRunflow(httpx.Response(500))
    with pytest.raises(exc.RunflowUnavailable):
        fake.client().get_run(RUN_ID)
    assert len(fake.requests) == 5


def test_find_by_client_ref_walks_every_page_and_matches_client_ref() -> None:
    other = run_json(id="other", client_ref="run_0")
    mine = run_json(client_ref="run_1")
    fake = FakeRunflow(
        httpx.Response(200, json={"items": [other], "next_pq": "cursor-2"}),
        httpx.Response(200, json={"items": [mine], "next_pq": None}),
    )
    submitted = datetime(2026, 3, 1, 12, 0, 30, 123456, tzinfo=UTC)
    found = fake.client().find_by_client_ref("run_1", created_after=submitted)
    assert found is not None
    assert found.id == RUN_ID
    first, second = fake.requests
    assert first.url.path == "/v1/runs"
    assert first.url.params["q"] == "created_at>2026-03-01T11:59:30+00:00"
    assert first.url.params["limit"] == "500"
    assert "pq" not in first.url.params
    assert second.url.params["pq"] == "cursor-2"


def test_find_by_client_ref_returns_none_when_no_run_matches() -> None:
    fake = FakeRunflow(httpx.Response(200, json={"items": [run_json(client_ref="run_0")]}))
    assert fake.client().find_by_client_ref("run_1", created_after=datetime.now(UTC)) is None


def test_find_by_client_ref_prefers_the_earliest_duplicate_and_warns(
    caplog: pytest.LogCaptureFixture,
) -> None:
    later = run_json(id="later", created_at="2026-03-01T12:05:00+00:00")
    earlier = run_json(id="earlier", created_at="2026-03-01T12:01:00+00:00")
    fake = FakeRunflow(httpx.Response(200, json={"items": [later, earlier]}))
    with caplog.at_level(logging.WARNING, logger=client_module.__name__):
        found = fake.client().find_by_client_ref("run_1", created_after=datetime.now(UTC))
    assert found is not None
    assert found.id == "earlier"
    assert "2 runs with client_ref run_1" in caplog.text


def test_find_by_client_ref_bounds_the_pages_walked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(client_module, "LIST_MAX_PAGES", 3)
    fake = FakeRunflow(httpx.Response(200, json={"items": [], "next_pq": "again"}))
    with pytest.raises(exc.RunflowError) as caught:
        fake.client().find_by_client_ref("run_1", created_after=datetime.now(UTC))
    assert caught.value.code == "LOOKUP_INCOMPLETE"
    assert caught.value.outcome_unknown is True
    assert len(fake.requests) == 3


def test_find_by_client_ref_refuses_a_naive_datetime() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        FakeRunflow(httpx.Response(200, json={"items": []})).client().find_by_client_ref(
            "run_1",
            created_after=datetime(2026, 3, 1),
        )


def test_api_key_never_appears_in_errors_or_reprs() -> None:
    echo = {"code": "UNAUTHORIZED", "message": f"key {API_KEY} is revoked"}
    fake = FakeRunflow(
        httpx.Response(401, json=echo),
        httpx.ConnectError(f"refused for Bearer {API_KEY}"),
        html(502),
    )
    client = fake.client(max_attempts=1)
    errors = []
    for _ in range(3):
        with pytest.raises(exc.RunflowError) as caught:
            client.get_run(RUN_ID)
        errors.append(caught.value)
    for error in errors:
        assert API_KEY not in str(error)
        assert API_KEY not in repr(error)
    assert API_KEY not in repr(client)


def test_settings_are_read_when_the_client_is_built() -> None:
    seedance = {"RUNFLOW_BASE_URL": "http://elsewhere.test/v1", "RUNFLOW_API_KEY": "rf_live_other"}
    fake = FakeRunflow(httpx.Response(200, json=run_json()))
    with override_settings(SEEDANCE=seedance):
        client = RunflowClient(transport=httpx.MockTransport(fake.handle), sleep=fake.sleeps.append)
    client.get_run(RUN_ID)
    assert str(fake.requests[0].url) == f"http://elsewhere.test/v1/runs/{RUN_ID}"
    assert fake.requests[0].headers["Authorization"] == "Bearer rf_live_other"


def test_missing_api_key_is_a_configuration_error() -> None:
    with (
        override_settings(SEEDANCE={"RUNFLOW_API_KEY": ""}),
        pytest.raises(ImproperlyConfigured, match="RUNFLOW_API_KEY"),
    ):
        runflow_client()


def test_find_by_client_ref_lists_a_window_closed_on_both_sides() -> None:
    fake = FakeRunflow(httpx.Response(200, json={"items": []}))
    start = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
    fake.client().find_by_client_ref(
        "run_1", created_after=start, created_before=start + timedelta(minutes=30)
    )
    assert fake.requests[0].url.params["q"] == (
        "created_at>2026-03-01T11:59:00+00:00 AND created_at<2026-03-01T12:31:00+00:00"
    )


def test_retry_after_longer_than_a_worker_should_wait_fails_at_once() -> None:
    limited = httpx.Response(429, json={"code": "RATE_LIMITED"}, headers={"Retry-After": "120"})
    fake = FakeRunflow(limited, httpx.Response(200, json=run_json()))
    with pytest.raises(exc.RunflowRateLimited) as refused:
        fake.client().get_run(RUN_ID)
    assert refused.value.retry_after == 120
    assert fake.sleeps == []


def test_balance_is_an_authenticated_read_of_our_credit() -> None:
    fake = FakeRunflow(httpx.Response(200, json={"balance_cents": 1234, "currency": "usd"}))
    assert fake.client().balance() == {"balance_cents": 1234, "currency": "usd"}
    (request,) = fake.requests
    assert (request.method, request.url.path) == ("GET", "/v1/billing/balance")
    assert request.headers["Authorization"] == f"Bearer {API_KEY}"


def test_a_balance_that_is_not_an_object_is_a_bad_response() -> None:
    fake = FakeRunflow(httpx.Response(200, json=[1, 2]))
    with pytest.raises(exc.RunflowError, match="balance is not an object"):
        fake.client().balance()
