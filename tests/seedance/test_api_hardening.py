"""Whatever a tenant sends, the answer is a clear 4xx, and a created run is never a 500."""

import base64
import json
from typing import Any

import pytest
from rest_framework.test import APIClient

from seedance import queue
from seedance.models import Run

RUN = {"prompt": "a fox in snow", "duration": "4"}


@pytest.mark.parametrize(
    "cursor",
    ["not-base64!", base64.b64encode(b"p=garbage").decode(), base64.b64encode(b"o=-5").decode()],
)
def test_forged_cursor_is_a_json_404_not_a_500(api_client: APIClient, cursor: str) -> None:
    response = api_client.get("/api/v1/runs", {"cursor": cursor})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


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
