"""Runflow's callback URL refuses an unreadable body with a 4xx in the error shape: the
signature is checked first on the raw body, and a validly signed body nested 5,000 levels
deep is a 400, never a 500 (the signed-webhook base catches the decoder's RecursionError)."""

import pytest
from rest_framework.test import APIClient

from seedance.models import RejectedDelivery, Run, Tenant
from seedance.runflow.signing import SIGNATURE_HEADER, sign
from tests.conftest import CALLBACK_SECRET
from tests.error_shape import assert_error_shape

DEEP = "[" * 5000 + "]" * 5000


@pytest.mark.parametrize(
    "body",
    [DEEP, '{"id": "rf_1", "status": "succeeded", "outputs": ' + DEEP + "}"],
    ids=["top-level", "in-a-field"],
)
def test_validly_signed_callback_nested_5000_levels_is_a_400(tenant: Tenant, body: str) -> None:
    run = Run.objects.create(tenant=tenant, prompt="x", deadline_at="2030-01-01T00:00:00Z")
    response = APIClient().post(
        f"/hooks/runflow/runs/{run.pk}/",
        data=body,
        content_type="application/json",
        headers={SIGNATURE_HEADER: sign(body.encode(), CALLBACK_SECRET)},
    )
    assert_error_shape(response, 400, "malformed_body")
    run.refresh_from_db()
    assert run.status == "queued"
    assert RejectedDelivery.objects.get(source="runflow").reason == "malformed_body"


def test_unsigned_nested_callback_is_refused_on_its_signature_first(tenant: Tenant) -> None:
    response = APIClient().post(
        "/hooks/runflow/runs/00000000-0000-0000-0000-000000000000/",
        data=DEEP,
        content_type="application/json",
    )
    assert_error_shape(response, 401)
    assert RejectedDelivery.objects.get(source="runflow").reason == "invalid_signature"
