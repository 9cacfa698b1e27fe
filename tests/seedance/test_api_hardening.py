"""Whatever a tenant sends, the answer is a clear 4xx, and a created run is never a 500."""

import base64
import json
from typing import Any

import pytest
from rest_framework.test import APIClient

from seedance import queue
from seedance.models import Run
from tests.error_shape import assert_error_shape

RUN = {"prompt": "a fox in snow", "duration": "4"}


@pytest.mark.parametrize(
    "cursor",
    [
        "not-base64!",
        "%%%",
        "A" * 64,
        "",
        base64.b64encode(b"p=garbage").decode(),
        base64.b64encode(b"o=-5").decode(),
        base64.b64encode(b"x=1").decode(),
    ],
)
def test_forged_cursor_is_a_field_level_400(api_client: APIClient, cursor: str) -> None:
    response = api_client.get("/api/v1/runs", {"cursor": cursor})
    error = assert_error_shape(response, 400, "invalid_input")
    assert list(error["fields"]) == ["cursor"]


@pytest.mark.parametrize("limit", ["0", "-1", "101", "1000", "x", "1.5", "", "9" * 40])
def test_limit_outside_1_to_100_is_a_field_level_400(api_client: APIClient, limit: str) -> None:
    response = api_client.get("/api/v1/runs", {"limit": limit})
    error = assert_error_shape(response, 400, "invalid_input")
    assert list(error["fields"]) == ["limit"]


def test_limit_inside_the_range_pages(api_client: APIClient) -> None:
    for _ in range(3):
        api_client.post("/api/v1/runs", RUN, format="json")
    page = api_client.get("/api/v1/runs", {"limit": "2", "format": "json"})
    assert page.status_code == 200
    assert len(page.json()["results"]) == 2
    assert api_client.get(page.json()["next"]).status_code == 200


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/api/v1/runs"),
        ("post", "/api/v1/runs"),
        ("get", "/api/v1/runs/00000000-0000-0000-0000-000000000000"),
        ("post", "/api/v1/runs/00000000-0000-0000-0000-000000000000/cancel"),
        ("get", "/api/v1/usage"),
        ("get", "/api/v1/prices/estimate"),
        ("get", "/api/v1/limits"),
    ],
)
def test_unknown_query_parameter_is_a_field_level_400(
    api_client: APIClient, method: str, url: str
) -> None:
    body: dict[str, Any] = {"data": RUN, "format": "json"} if method == "post" else {}
    response = getattr(api_client, method)(f"{url}?stauts=failed&format=json", **body)
    error = assert_error_shape(response, 400, "invalid_input")
    assert list(error["fields"]) == ["stauts"]
    assert not Run.objects.exists()


API_OPERATIONS = [
    ("get", "/api/v1/runs"),
    ("post", "/api/v1/runs"),
    ("get", "/api/v1/runs/00000000-0000-0000-0000-000000000000"),
    ("post", "/api/v1/runs/00000000-0000-0000-0000-000000000000/cancel"),
    ("get", "/api/v1/usage"),
    ("get", "/api/v1/prices/estimate"),
    ("get", "/api/v1/limits"),
]


@pytest.mark.parametrize("value", ["AAA", ""])
@pytest.mark.parametrize(("method", "url"), API_OPERATIONS)
def test_unknown_or_blank_format_is_a_field_level_400_not_a_404(
    api_client: APIClient, method: str, url: str, value: str
) -> None:
    body: dict[str, Any] = {"data": json.dumps(RUN), "content_type": "application/json"}
    response = getattr(api_client, method)(
        f"{url}?format={value}", **(body if method == "post" else {})
    )
    error = assert_error_shape(response, 400, "invalid_input")
    assert list(error["fields"]) == ["format"]
    assert not Run.objects.exists()


@pytest.mark.parametrize("url", sorted({url for _, url in API_OPERATIONS}))
def test_options_is_not_an_api_method(api_client: APIClient, url: str) -> None:
    """DRF's OPTIONS answer describes a view from its docstring, a note to us."""
    response = api_client.options(url)
    assert_error_shape(response, 405, "method_not_allowed")
    assert "OPTIONS" not in response["Allow"]


@pytest.mark.parametrize("name", ["created_after", "created_before"])
def test_blank_date_filter_is_a_field_level_400(api_client: APIClient, name: str) -> None:
    error = assert_error_shape(api_client.get("/api/v1/runs", {name: ""}), 400, "invalid_input")
    assert list(error["fields"]) == [name]


def test_null_metadata_is_an_empty_object(api_client: APIClient) -> None:
    response = api_client.post("/api/v1/runs", {**RUN, "metadata": None}, format="json")
    assert response.status_code == 201
    assert response.json()["metadata"] == {}


def test_documented_query_parameters_are_accepted(api_client: APIClient) -> None:
    query = {
        "status": "queued",
        "end_user_id": "u",
        "created_after": "2026-01-01T00:00:00Z",
        "created_before": "2027-01-01T00:00:00Z",
        "limit": "5",
        "format": "json",
    }
    assert api_client.get("/api/v1/runs", query).status_code == 200


def test_unknown_query_parameter_is_checked_after_authentication(db: None) -> None:
    assert_error_shape(APIClient().get("/api/v1/runs", {"stauts": "x"}), 401)


@pytest.mark.parametrize("moment", ["9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+12:00"])
@pytest.mark.parametrize("field", ["created_after", "created_before"])
def test_moment_outside_utcs_range_is_a_field_level_400(
    api_client: APIClient, field: str, moment: str
) -> None:
    response = api_client.get("/api/v1/runs", {field: moment})
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


@pytest.mark.parametrize(
    "raw_metadata",
    ['{"a": 1e400}', '{"a": -1e400}', '{"a": ' + "[" * 40 + "]" * 40 + "}"],
    ids=["infinity", "minus-infinity", "too-deep"],
)
def test_metadata_json_cannot_store_is_refused(api_client: APIClient, raw_metadata: str) -> None:
    body = f'{{"prompt": "x", "metadata": {raw_metadata}}}'
    response = api_client.post("/api/v1/runs", data=body, content_type="application/json")
    assert response.status_code == 400
    assert "metadata" in response.json()["error"]["fields"]
    assert not Run.objects.exists()


def test_nan_is_not_json_and_is_refused_at_parsing(api_client: APIClient) -> None:
    body = '{"prompt": "x", "metadata": {"a": NaN}}'
    response = api_client.post("/api/v1/runs", data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"
    assert not Run.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_run_committed_before_the_broker_failed_is_still_a_201(
    api_client: APIClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reconciler submits a run whose task never reached the broker; a 500 here would
    make the tenant retry into a second, billed run."""

    def broker_down(run_id: Any) -> None:
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(queue, "enqueue_submit", broker_down)
    response = api_client.post(
        "/api/v1/runs", data=json.dumps(RUN), content_type="application/json"
    )
    assert response.status_code == 201
    assert Run.objects.filter(pk=response.json()["id"]).exists()
