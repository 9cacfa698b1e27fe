"""Any body a tenant app can send gets a 2xx or a documented 4xx in the error shape, never
a 500, and a refused body changes nothing (hypothesis; profiles in tests/conftest.py)."""

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.apps import apps
from hypothesis import given
from hypothesis import strategies as st
from rest_framework.test import APIClient

from seedance.run_input import ASPECT_RATIOS, DURATIONS, FIELDS, RESOLUTIONS
from seedance.webhooks.events import EVENT_TYPES
from tests.error_shape import assert_error_shape

RUNS_URL = "/api/v1/runs"
#: A receiver the outbound rules allow here (none listens: nothing is delivered).
RECEIVER = "http://127.0.0.1:9/hooks"
ENDPOINTS_URL = "/api/v1/webhooks/endpoints"
#: What the API documents for a refused body: invalid, payment required, conflict, too
#: large, unsupported media type, too many requests.
DOCUMENTED_REFUSALS = {400, 402, 409, 413, 415, 422, 429}

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
words = st.text(st.characters(categories=("L", "N", "Zs")), min_size=1, max_size=60).filter(
    str.strip
)
#: Each run field's valid values.
valid_run_fields = {
    "aspect_ratio": st.sampled_from(ASPECT_RATIOS),
    "duration": st.sampled_from(DURATIONS),
    "resolution": st.sampled_from(RESOLUTIONS),
    "generate_audio": st.booleans(),
    "seed": st.integers(min_value=0, max_value=2**32 - 1),
    "end_user_id": st.from_regex(r"[a-z0-9_-]{1,20}", fullmatch=True),
    "metadata": st.dictionaries(st.text("abc", min_size=1, max_size=4), words, max_size=3),
}
valid_run_bodies = st.fixed_dictionaries({"prompt": words}, optional=valid_run_fields)


@st.composite
def one_field_broken(draw: st.DrawFn) -> dict[str, Any]:
    """A valid body with one field, or one stray field, set to anything at all."""
    body = draw(valid_run_bodies)
    body[draw(st.sampled_from([*FIELDS, "model", ""]))] = draw(json_values)
    return body


run_bodies = (
    valid_run_bodies
    | one_field_broken()
    | st.dictionaries(st.sampled_from([*FIELDS, "id"]), json_values, max_size=4)
    | json_values
)
valid_endpoint_bodies = st.fixed_dictionaries(
    {"url": st.just(RECEIVER), "events": st.lists(st.sampled_from(list(EVENT_TYPES)), min_size=1)},
    optional={"description": words},
)
endpoint_bodies = (
    valid_endpoint_bodies
    | st.fixed_dictionaries(
        {},
        optional={
            "url": st.sampled_from([RECEIVER, "http://10.0.0.1/", "nope"]) | json_values,
            "events": st.lists(st.sampled_from([*EVENT_TYPES, "run.unknown"]), max_size=3)
            | json_values,
            "description": st.text(max_size=30) | json_values,
            "enabled": st.booleans() | json_values,
        },
    )
    | json_values
)
raw_bodies = st.binary(max_size=64) | st.text(max_size=64).map(str.encode)


#: Counts requests, refused ones too, by design: a throttle that ignored bad bodies would
#: let a client hammer validation for free.
NOT_STATE = {"seedance.RateCounter"}


@pytest.fixture(autouse=True)
def _unthrottled(settings: Any) -> None:
    """Every example reaches validation, not the throttles; the loopback receiver is allowed."""
    settings.SEEDANCE = {
        **settings.SEEDANCE,
        "API_CREATE_RATE": "off",
        "API_READ_RATE": "off",
        "OUTBOUND_LOOPBACK_HTTP": ["127.0.0.1:9"],
    }


def _row_counts() -> dict[str, int]:
    """Every table a request could write to, by model."""
    return {
        model._meta.label: model._default_manager.count()
        for label in ("seedance", "billing", "django_q")
        for model in apps.get_app_config(label).get_models()
        if model._meta.label not in NOT_STATE
    }


def _check(response: Any, before: dict[str, int]) -> None:
    assert response.status_code < 500, response.content[:300]
    if response.status_code >= 400:
        assert response.status_code in DOCUMENTED_REFUSALS
        assert_error_shape(response, response.status_code)
        assert _row_counts() == before


@pytest.mark.django_db
@given(body=run_bodies)
def test_any_run_body_is_created_or_refused_in_the_error_shape_changing_nothing(
    api_client: APIClient, body: Any
) -> None:
    before = _row_counts()
    _check(api_client.post(RUNS_URL, body, format="json"), before)


@pytest.mark.django_db
@given(body=raw_bodies, content_type=st.sampled_from(["application/json", "text/plain", ""]))
def test_any_bytes_as_a_run_body_are_refused_in_the_error_shape_or_created(
    api_client: APIClient, body: bytes, content_type: str
) -> None:
    before = _row_counts()
    _check(api_client.generic("POST", RUNS_URL, body, content_type=content_type), before)


Send = Callable[[Any], Any]


def _create_endpoint(api_client: APIClient) -> Send:
    """A body as a new endpoint: POSTed to the collection."""
    return lambda body: api_client.post(ENDPOINTS_URL, body, format="json")


def _update_endpoint(api_client: APIClient) -> Send:
    """A body as an update: PATCHed onto an endpoint made just before."""
    created = api_client.post(
        ENDPOINTS_URL,
        {"url": RECEIVER, "events": ["run.succeeded"]},
        format="json",
    )
    assert created.status_code == 201, created.content
    url = f"{ENDPOINTS_URL}/{created.json()['id']}"
    return lambda body: api_client.patch(url, json.dumps(body), content_type="application/json")


@pytest.mark.django_db
@pytest.mark.parametrize("sender", [_create_endpoint, _update_endpoint], ids=["create", "update"])
@given(body=endpoint_bodies)
def test_any_webhook_endpoint_body_is_applied_or_refused_changing_nothing(
    api_client: APIClient, sender: Callable[[APIClient], Send], body: Any
) -> None:
    send = sender(api_client)
    before = _row_counts()
    _check(send(body), before)
