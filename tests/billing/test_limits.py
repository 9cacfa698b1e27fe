"""Spend and concurrency caps: checked at create, and never passed, however many
requests arrive at once."""

import threading
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient

from billing.models import EndUserLimit, RunCharge, TenantBilling
from seedance.models import Run
from seedance.outcomes import Outcome
from seedance.states import RunStatus
from seedance.transitions import run_finish

RUN = {"prompt": "a heron in reeds", "duration": "5", "resolution": "720p"}
RUN_COST = Decimal("1.2095")  # 5 s at 0.2419


def set_caps(tenant: Any, **caps: Any) -> None:
    TenantBilling.objects.update_or_create(tenant=tenant, defaults=caps)


def post(client: APIClient, **fields: Any) -> Any:
    return client.post("/api/v1/runs", {**RUN, **fields}, format="json")


def test_tenant_monthly_cap_refuses_the_run_that_would_pass_it(
    tenant: Any, api_client: APIClient
) -> None:
    set_caps(tenant, monthly_spend_cap=RUN_COST * 2)
    assert post(api_client).status_code == 201
    assert post(api_client).status_code == 201
    refused = post(api_client)
    assert refused.status_code == 402
    assert refused.json()["error"]["code"] == "tenant_monthly_spend_cap"
    assert Run.objects.count() == 2
    assert RunCharge.objects.count() == 2


def test_auto_duration_reserves_the_worst_case_against_the_cap(
    tenant: Any, api_client: APIClient
) -> None:
    set_caps(tenant, monthly_spend_cap=Decimal("0.2419") * 14)
    response = post(api_client, duration="auto")
    assert response.status_code == 402
    assert post(api_client, duration="14").status_code == 201


def test_end_user_cap_counts_only_that_end_users_runs(tenant: Any, api_client: APIClient) -> None:
    set_caps(tenant, end_user_monthly_spend_cap=RUN_COST)
    assert post(api_client, end_user_id="alice").status_code == 201
    refused = post(api_client, end_user_id="alice")
    assert refused.status_code == 402
    assert refused.json()["error"]["code"] == "end_user_monthly_spend_cap"
    assert post(api_client, end_user_id="bob").status_code == 201
    assert post(api_client).status_code == 201


def test_end_user_override_replaces_the_tenant_default(tenant: Any, api_client: APIClient) -> None:
    set_caps(tenant, end_user_monthly_spend_cap=RUN_COST)
    EndUserLimit.objects.create(tenant=tenant, end_user_id="vip", monthly_spend_cap=RUN_COST * 3)
    assert [post(api_client, end_user_id="vip").status_code for _ in range(4)] == [
        201,
        201,
        201,
        402,
    ]


def test_concurrency_cap_is_429_with_retry_after_and_frees_on_finish(
    tenant: Any, api_client: APIClient
) -> None:
    set_caps(tenant, max_in_flight_runs=1)
    first = post(api_client)
    refused = post(api_client)
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "tenant_concurrency_cap"
    assert int(refused["Retry-After"]) > 0
    run_finish(first.json()["id"], Outcome(status=RunStatus.FAILED))
    assert post(api_client).status_code == 201


def test_released_reservation_returns_its_budget(tenant: Any, api_client: APIClient) -> None:
    set_caps(tenant, monthly_spend_cap=RUN_COST)
    first = post(api_client)
    assert post(api_client).status_code == 402
    api_client.post(f"/api/v1/runs/{first.json()['id']}/cancel")
    assert post(api_client).status_code == 201


def test_caps_of_one_tenant_never_touch_another(
    tenant: Any, other_tenant: Any, api_client: APIClient, other_api_client: APIClient
) -> None:
    set_caps(tenant, monthly_spend_cap=Decimal(0))
    assert post(api_client).status_code == 402
    assert post(other_api_client).status_code == 201


@pytest.mark.parametrize(
    ("caps", "extra", "refusal"),
    [
        ({"monthly_spend_cap": RUN_COST * 10}, {}, 402),
        ({"end_user_monthly_spend_cap": RUN_COST * 10}, {"end_user_id": "u1"}, 402),
        ({"max_in_flight_runs": 10}, {}, 429),
    ],
    ids=["tenant-spend", "end-user-spend", "concurrency"],
)
@pytest.mark.django_db(transaction=True)
def test_fifty_parallel_creates_never_pass_a_cap_of_ten(
    tenant: Any, issued_key: Any, caps: dict[str, Any], extra: dict[str, str], refusal: int
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("real parallel writers need PostgreSQL")
    set_caps(tenant, **caps)
    barrier = threading.Barrier(50)
    statuses: list[int] = []

    def create() -> None:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued_key.secret}")
        barrier.wait()
        try:
            statuses.append(post(client, **extra).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=create) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Counter(statuses) == {201: 10, refusal: 40}
    assert Run.objects.filter(tenant=tenant).count() == 10
    assert RunCharge.objects.filter(tenant=tenant).count() == 10


def test_past_due_tenant_is_refused_when_enforced(
    tenant: Any, api_client: APIClient, settings: Any
) -> None:
    set_caps(tenant, subscription_status=TenantBilling.SubscriptionStatus.PAST_DUE)
    assert post(api_client).status_code == 201
    settings.BILLING = {**settings.BILLING, "ENFORCE_SUBSCRIPTION": True}
    refused = post(api_client)
    assert refused.status_code == 402
    assert refused.json()["error"]["code"] == "subscription_past_due"


def test_admission_locks_an_existing_billing_row_in_one_statement(tenant: Any) -> None:
    from django.db import transaction
    from django.test.utils import CaptureQueriesContext

    from billing.limits import tenant_billing_for_update

    set_caps(tenant, monthly_spend_cap=RUN_COST)
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        billing = tenant_billing_for_update(tenant)
    assert billing.monthly_spend_cap == RUN_COST
    statements = [q["sql"] for q in queries.captured_queries if "billing_tenantbilling" in q["sql"]]
    assert len(statements) == 1
    if connection.features.has_select_for_update:
        assert "FOR UPDATE" in statements[0]


def test_a_tenant_without_a_billing_row_gets_one_at_its_first_create(
    tenant: Any, api_client: APIClient
) -> None:
    TenantBilling.objects.filter(tenant=tenant).delete()
    assert post(api_client).status_code == 201
    assert TenantBilling.objects.filter(tenant=tenant).exists()
    assert RunCharge.objects.filter(tenant=tenant).count() == 1
