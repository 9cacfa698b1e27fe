"""Every answer that is not a 2xx becomes one typed error carrying the API's envelope."""

import httpx
import pytest

from client_payloads import error
from seedance_client import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PaymentRequiredError,
    PermissionDeniedError,
    RateLimitedError,
    SeedanceClient,
    SeedanceError,
    ServerError,
    ValidationError,
)


def client_answering(response: httpx.Response) -> SeedanceClient:
    http = httpx.Client(transport=httpx.MockTransport(lambda request: response))
    return SeedanceClient("sdk_key", base_url="http://api.test", max_retries=0, http_client=http)


@pytest.mark.parametrize(
    ("status", "error_class"),
    [
        (400, ValidationError),
        (401, AuthenticationError),
        (402, PaymentRequiredError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ConflictError),
        (413, ValidationError),
        (415, ValidationError),
        (422, ValidationError),
        (429, RateLimitedError),
        (500, ServerError),
        (503, ServerError),
        (406, SeedanceError),
    ],
)
def test_status_maps_to_its_error_class(status: int, error_class: type[SeedanceError]) -> None:
    body = error("some_code", "Said so.", {"prompt": ["Required."]})
    response = httpx.Response(status, json=body, headers={"X-Request-ID": "req-123"})
    with pytest.raises(error_class) as caught:
        client_answering(response).get_run("r1")
    assert type(caught.value) is error_class
    assert caught.value.status == status
    assert caught.value.code == "some_code"
    assert caught.value.message == "Said so."
    assert caught.value.fields == {"prompt": ["Required."]}
    assert caught.value.request_id == "req-123"
    assert "req-123" in str(caught.value)
    assert "some_code" in str(caught.value)


def test_rate_limited_carries_retry_after() -> None:
    response = httpx.Response(429, json=error("rate_limited"), headers={"Retry-After": "12"})
    with pytest.raises(RateLimitedError) as caught:
        client_answering(response).get_limits()
    assert caught.value.retry_after == 12.0


def test_a_body_that_is_not_our_envelope_still_maps_by_status() -> None:
    response = httpx.Response(502, text="<html>Bad gateway</html>")
    with pytest.raises(ServerError) as caught:
        client_answering(response).get_limits()
    assert caught.value.code is None
    assert caught.value.fields == {}
    assert caught.value.message == "Bad Gateway"


def test_requests_carry_the_key_and_the_api_prefix() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"results": []})

    http = httpx.Client(transport=httpx.MockTransport(handler))
    for base in ("http://api.test", "http://api.test/", "http://api.test/api/v1"):
        SeedanceClient("sdk_key", base_url=base, http_client=http).list_event_types()
    assert {str(request.url) for request in seen} == {"http://api.test/api/v1/webhooks/event-types"}
    assert seen[0].headers["Authorization"] == "Bearer sdk_key"


def test_list_filters_are_sent_as_documented() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"next": None, "previous": None, "results": []})

    http = httpx.Client(transport=httpx.MockTransport(handler))
    client = SeedanceClient("sdk_key", base_url="http://api.test", http_client=http)
    client.list_runs(status=["failed", "canceled"], end_user_id="u1", limit=5)
    assert seen[0].url.params.get_list("status") == ["failed", "canceled"]
    assert seen[0].url.params["end_user_id"] == "u1"
    assert seen[0].url.params["limit"] == "5"


def test_injected_http_client_is_left_open() -> None:
    http = httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(204)))
    with SeedanceClient("sdk_key", base_url="http://api.test", http_client=http) as client:
        client.delete_webhook_endpoint("e1")
    assert not http.is_closed
    http.close()


def test_the_api_key_never_shows_in_a_repr() -> None:
    client = SeedanceClient("sdk_secret_value", base_url="http://api.test")
    assert "sdk_secret_value" not in repr(vars(client))
    client.close()
