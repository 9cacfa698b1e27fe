"""A JSON body nested past the decoder's recursion limit is a 400 in the error shape."""

import pytest
from rest_framework.test import APIClient

from seedance.models import Run
from tests.error_shape import assert_error_shape

DEEP = "[" * 5000 + "]" * 5000


@pytest.mark.parametrize(
    "body",
    [
        DEEP,
        '{"prompt": "x", "metadata": {"a": ' + DEEP + "}}",
        '{"prompt": "x", "a": ' + DEEP + "}",
    ],
    ids=["top-level", "in-metadata", "in-unknown-field"],
)
def test_json_nested_5000_levels_on_create_is_a_400(api_client: APIClient, body: str) -> None:
    response = api_client.post("/api/v1/runs", data=body, content_type="application/json")
    assert_error_shape(response, 400, "parse_error")
    assert not Run.objects.exists()
