"""The estimate a tenant sees equals what the ledger bills; caps show what remains."""

from decimal import Decimal
from typing import Any

import pytest
from rest_framework.test import APIClient

from billing.models import TenantBilling, UsageRecord
from tests.billing.factories import billable_run, new_price


@pytest.mark.parametrize(
    ("resolution", "duration", "low", "high"),
    [("720p", "5", "1.209500", "1.209500"), ("480p", "auto", "0.432000", "1.620000")],
)
def test_estimate_shows_one_amount_or_the_auto_range(
    api_client: APIClient, resolution: str, duration: str, low: str, high: str
) -> None:
    response = api_client.get(
        "/api/v1/prices/estimate", {"resolution": resolution, "duration": duration}
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["min_amount"], body["max_amount"]) == (low, high)
    assert body["currency"] == "usd"


def test_estimate_equals_what_the_ledger_bills(tenant: Any, api_client: APIClient) -> None:
    new_price(tenant, "720p", "0.31")
    estimate = api_client.get("/api/v1/prices/estimate", {"duration": "7"}).json()
    run = billable_run(tenant, duration="7")
    assert UsageRecord.objects.get(run=run).amount == Decimal(estimate["max_amount"])


@pytest.mark.parametrize(
    "query", [{"resolution": "1080p"}, {"resolution": ""}, {"duration": ""}], ids=str
)
def test_bad_estimate_query_is_a_field_level_400(
    api_client: APIClient, query: dict[str, str]
) -> None:
    response = api_client.get("/api/v1/prices/estimate", query)
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == list(query)


def test_limits_show_spend_and_what_remains(tenant: Any, api_client: APIClient) -> None:
    TenantBilling.objects.filter(tenant=tenant).update(
        monthly_spend_cap=Decimal(10), end_user_monthly_spend_cap=Decimal(2)
    )
    billable_run(tenant, end_user_id="alice")
    body = api_client.get("/api/v1/limits", {"end_user_id": "alice"}).json()
    assert body["month"] == {"spent": "1.209500", "cap": "10.000000", "remaining": "8.790500"}
    assert body["end_user"]["remaining"] == "0.790500"


def test_limits_are_the_callers_own(
    tenant: Any, other_tenant: Any, other_api_client: APIClient
) -> None:
    TenantBilling.objects.filter(tenant=tenant).update(monthly_spend_cap=Decimal(10))
    billable_run(tenant)
    body = other_api_client.get("/api/v1/limits").json()
    assert body["month"] == {"spent": "0.000000", "cap": None, "remaining": None}
