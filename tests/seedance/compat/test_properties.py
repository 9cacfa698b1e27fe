"""Any body or query a Runflow client can send gets a 2xx or a 4xx in Runflow's envelope,
never a 500, and a refused create changes nothing (hypothesis; profiles in tests/conftest.py)."""

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rest_framework.test import APIClient

from tests.seedance.test_api_properties import _row_counts, json_values, raw_bodies, run_bodies

CREATE_URL = "/v1/models/bytedance/seedance/2.0/fast/text-to-video/runs"
REFUSALS = {400, 402, 409, 413, 415, 422, 429}

runflow_bodies = (
    st.fixed_dictionaries(
        {"input": run_bodies},
        optional={
            "callback_url": st.sampled_from(["http://127.0.0.1:9/cb", "http://10.0.0.1/", "x"])
            | json_values,
            "metadata": json_values,
            "client_ref": st.text(max_size=300) | json_values,
        },
    )
    | st.dictionaries(st.sampled_from(["input", "prompt", "metadata", "x"]), json_values)
    | json_values
)
queries = st.fixed_dictionaries(
    {},
    optional={
        "q": st.text(max_size=60)
        | st.sampled_from(["status_code:queued", "created_at>2026-01-01", "client_ref:a"]),
        "limit": st.integers(min_value=-5, max_value=600).map(str) | st.text(max_size=5),
        "pq": st.text(max_size=30),
    },
)


@pytest.fixture(autouse=True)
def _unthrottled(settings: Any) -> None:
    settings.SEEDANCE = {
        **settings.SEEDANCE,
        "API_CREATE_RATE": "off",
        "API_READ_RATE": "off",
        "OUTBOUND_LOOPBACK_HTTP": ["127.0.0.1:9"],
    }


def _check(response: Any, before: dict[str, int] | None = None) -> None:
    assert response.status_code < 500, response.content[:300]
    assert response["Content-Type"] == "application/json"
    if response.status_code >= 400:
        assert response.status_code in REFUSALS
        body = response.json()
        assert isinstance(body["code"], str)
        assert body["code"].isupper()
        assert isinstance(body["message"], str)
        for error in body.get("errors", []):
            assert set(error) == {"field", "message"}
        if before is not None:
            assert _row_counts() == before


@pytest.mark.django_db
@given(body=runflow_bodies)
def test_any_create_body_is_created_or_refused_in_runflows_envelope_changing_nothing(
    api_client: APIClient, body: Any
) -> None:
    before = _row_counts()
    _check(api_client.post(CREATE_URL, body, format="json"), before)


@pytest.mark.django_db
@given(body=raw_bodies, content_type=st.sampled_from(["application/json", "text/plain", ""]))
def test_any_bytes_as_a_create_body_are_refused_in_runflows_envelope_or_created(
    api_client: APIClient, body: bytes, content_type: str
) -> None:
    before = _row_counts()
    _check(api_client.generic("POST", CREATE_URL, body, content_type=content_type), before)


@pytest.mark.django_db
@given(query=queries)
def test_any_list_query_answers_a_page_or_a_refusal_in_runflows_envelope(
    api_client: APIClient, query: dict[str, str]
) -> None:
    _check(api_client.get("/v1/runs", query))
