"""GET /api/v1/usage: the calling tenant's ledger, summed per day, resolution or end user."""

import csv
import io
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import yaml
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from billing.models import UsageRecord
from seedance.models import Tenant
from tests.billing.test_selectors import DAY_1, DAY_2, DAY_3, ledger_row, sums_by
from tests.error_shape import assert_error_shape

USAGE_URL = "/api/v1/usage"
WEEK = {"from": "2026-03-10", "to": "2026-03-17"}


@pytest.fixture
def rows(tenant: Tenant) -> list[UsageRecord]:
    """Three UTC days, both resolutions, two end users and runs without one."""
    return [
        ledger_row(tenant, completed_at=DAY_1, amount="1.209500", end_user_id="alice"),
        ledger_row(
            tenant,
            completed_at=DAY_1 + timedelta(hours=23, minutes=59, seconds=59),
            amount="0.432000",
            seconds=4,
            resolution="480p",
            end_user_id="bob",
        ),
        ledger_row(tenant, completed_at=DAY_2 + timedelta(hours=3), amount="3.628500", seconds=15),
        ledger_row(
            tenant,
            completed_at=DAY_2 + timedelta(hours=12),
            amount="0.432000",
            seconds=4,
            resolution="480p",
            end_user_id="alice",
        ),
        ledger_row(tenant, completed_at=DAY_3 + timedelta(hours=5), amount="2.419000", seconds=10),
    ]


def get_usage(client: APIClient, **params: str) -> Any:
    return client.get(USAGE_URL, params)


def groups_of(body: dict[str, Any]) -> dict[str, tuple[int, int, Decimal]]:
    return {
        group["key"]: (group["runs"], group["seconds"], Decimal(group["amount"]))
        for group in body["groups"]
    }


def six_places(amount: Decimal) -> str:
    return f"{amount:.6f}"


# --- Grouping and sums ------------------------------------------------------------------


def test_daily_groups_equal_the_ledger_sums_per_utc_day(
    api_client: APIClient, rows: list[UsageRecord]
) -> None:
    response = get_usage(api_client, **WEEK)
    assert response.status_code == 200
    body = response.json()
    assert body["group_by"] == "day"
    assert groups_of(body) == sums_by(rows, lambda row: row.completed_at.date().isoformat())
    assert [group["key"] for group in body["groups"]] == [
        "2026-03-10",
        "2026-03-11",
        "2026-03-12",
    ]


def test_resolution_groups_equal_the_ledger_sums_per_resolution(
    api_client: APIClient, rows: list[UsageRecord]
) -> None:
    body = get_usage(api_client, group_by="resolution", **WEEK).json()
    assert body["group_by"] == "resolution"
    assert groups_of(body) == sums_by(rows, lambda row: row.resolution)
    assert [group["key"] for group in body["groups"]] == ["480p", "720p"]


def test_end_user_groups_equal_the_ledger_sums_per_end_user(
    api_client: APIClient, rows: list[UsageRecord]
) -> None:
    body = get_usage(api_client, group_by="end_user_id", **WEEK).json()
    assert groups_of(body) == sums_by(rows, lambda row: row.end_user_id)
    assert [group["key"] for group in body["groups"]] == ["", "alice", "bob"]


def test_end_user_filter_sums_only_that_end_users_rows(
    api_client: APIClient, rows: list[UsageRecord]
) -> None:
    body = get_usage(api_client, end_user_id="alice", group_by="resolution", **WEEK).json()
    alices = [row for row in rows if row.end_user_id == "alice"]
    assert groups_of(body) == sums_by(alices, lambda row: row.resolution)
    assert body["totals"]["amount"] == six_places(sum((row.amount for row in alices), Decimal(0)))


def test_totals_equal_the_ledger_sums(api_client: APIClient, rows: list[UsageRecord]) -> None:
    totals = get_usage(api_client, **WEEK).json()["totals"]
    assert totals == {
        "runs": len(rows),
        "seconds": sum(row.seconds for row in rows),
        "amount": six_places(sum((row.amount for row in rows), Decimal(0))),
    }


def test_amounts_are_strings_with_exactly_six_decimal_places(
    api_client: APIClient, tenant: Tenant
) -> None:
    ledger_row(tenant, completed_at=DAY_1, amount="2.000000")
    ledger_row(tenant, completed_at=DAY_1, amount="1.209500")
    body = get_usage(api_client, **WEEK).json()
    assert body["groups"][0]["amount"] == "3.209500"
    assert body["totals"]["amount"] == "3.209500"
    assert body["currency"] == "usd"


def test_answer_echoes_the_window_in_utc(api_client: APIClient) -> None:
    body = get_usage(api_client, **{"from": "2026-03-10T05:00:00+05:00", "to": "2026-03-11"}).json()
    assert body["from"] == "2026-03-10T00:00:00Z"
    assert body["to"] == "2026-03-11T00:00:00Z"
    assert body["groups"] == []
    assert body["totals"] == {"runs": 0, "seconds": 0, "amount": "0.000000"}


# --- Window -----------------------------------------------------------------------------


def test_from_is_inclusive_and_to_is_exclusive(api_client: APIClient, tenant: Tenant) -> None:
    ledger_row(tenant, completed_at=DAY_1 - timedelta(microseconds=1), amount="1.000000")
    first = ledger_row(tenant, completed_at=DAY_1, amount="0.432000")
    last = ledger_row(tenant, completed_at=DAY_2 - timedelta(seconds=1), amount="1.209500")
    ledger_row(tenant, completed_at=DAY_2, amount="5.000000")
    totals = get_usage(api_client, **{"from": "2026-03-10", "to": "2026-03-11"}).json()["totals"]
    assert totals["runs"] == 2
    assert totals["amount"] == six_places(first.amount + last.amount)


def test_naive_datetimes_are_utc(api_client: APIClient, tenant: Tenant) -> None:
    ledger_row(tenant, completed_at=DAY_1 + timedelta(hours=10), amount="1.000000")
    ledger_row(tenant, completed_at=DAY_1 + timedelta(hours=11), amount="2.000000")
    body = get_usage(
        api_client, **{"from": "2026-03-10T10:00:00", "to": "2026-03-10T11:00:00"}
    ).json()
    assert body["from"] == "2026-03-10T10:00:00Z"
    assert body["totals"]["amount"] == "1.000000"


def test_default_window_is_this_utc_month_so_far(api_client: APIClient, tenant: Tenant) -> None:
    now = timezone.now()
    month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    ledger_row(tenant, completed_at=month_start - timedelta(microseconds=1), amount="1.000000")
    this_month = ledger_row(tenant, completed_at=month_start, amount="0.432000")
    ledger_row(tenant, completed_at=now + timedelta(hours=1), amount="2.000000")
    body = get_usage(api_client).json()
    assert datetime.fromisoformat(body["from"]) == month_start
    assert now <= datetime.fromisoformat(body["to"]) <= timezone.now()
    assert body["group_by"] == "day"
    assert body["totals"]["amount"] == six_places(this_month.amount)


def test_a_range_of_exactly_366_days_is_allowed(api_client: APIClient) -> None:
    response = get_usage(api_client, **{"from": "2024-01-01", "to": "2025-01-01"})
    assert response.status_code == 200


# --- Field-level 400s -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"group_by": "week"}, "group_by"),
        ({"group_by": "DAY"}, "group_by"),
        ({"from": "2026-02-30"}, "from"),
        ({"from": "yesterday"}, "from"),
        ({"to": "2026-03-10T25:00:00"}, "to"),
        ({"from": "2026-03-10", "to": "2026-03-10"}, "to"),
        ({"from": "2026-03-11", "to": "2026-03-10"}, "to"),
        ({"from": "2024-01-01", "to": "2025-01-01T00:00:01"}, "to"),
        ({"from": "2099-01-01"}, "to"),
        ({"end_user_id": "x" * 256}, "end_user_id"),
        # Blank is not "the default": DRF would read a blank form value as absent.
        ({"group_by": ""}, "group_by"),
        ({"from": ""}, "from"),
        ({"to": ""}, "to"),
    ],
)
def test_bad_query_is_a_field_level_400(
    api_client: APIClient, params: dict[str, str], field: str
) -> None:
    response = get_usage(api_client, **params)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_input"
    assert list(error["fields"]) == [field]


def test_a_bad_query_answers_json_even_when_csv_was_asked(api_client: APIClient) -> None:
    response = get_usage(api_client, format="csv", group_by="week")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert list(response.json()["error"]["fields"]) == ["group_by"]


# --- CSV --------------------------------------------------------------------------------


def test_csv_export_has_a_header_and_one_row_per_group(
    api_client: APIClient, rows: list[UsageRecord]
) -> None:
    response = get_usage(api_client, format="csv", group_by="resolution", **WEEK)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    table = list(csv.reader(io.StringIO(response.content.decode())))
    expected = sums_by(rows, lambda row: row.resolution)
    assert table == [
        ["key", "runs", "seconds", "amount"],
        *(
            [key, str(runs), str(seconds), six_places(amount)]
            for key, (runs, seconds, amount) in sorted(expected.items())
        ),
    ]


def test_csv_export_is_an_attachment_named_after_the_window(
    api_client: APIClient, rows: list[UsageRecord]
) -> None:
    response = get_usage(api_client, format="csv", **WEEK)
    assert response["Content-Disposition"] == (
        'attachment; filename="usage-20260310T000000Z-20260317T000000Z.csv"'
    )


def test_csv_is_also_chosen_by_the_accept_header(
    api_client: APIClient, rows: list[UsageRecord]
) -> None:
    response = api_client.get(USAGE_URL, WEEK, HTTP_ACCEPT="text/csv")
    assert response["Content-Type"].startswith("text/csv")
    assert response.content.decode().splitlines()[0] == "key,runs,seconds,amount"


def test_csv_neutralises_end_user_ids_that_spreadsheets_would_run(
    api_client: APIClient, tenant: Tenant
) -> None:
    ledger_row(tenant, completed_at=DAY_1, amount="1.000000", end_user_id="=HYPERLINK(1)")
    response = get_usage(api_client, format="csv", group_by="end_user_id", **WEEK)
    table = list(csv.reader(io.StringIO(response.content.decode())))
    assert table[1][0] == "'=HYPERLINK(1)"


# --- Auth and tenancy -------------------------------------------------------------------


def test_without_an_api_key_is_401(db: None) -> None:
    response = APIClient().get(USAGE_URL)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_a_tenant_never_sees_another_tenants_usage(
    api_client: APIClient,
    other_api_client: APIClient,
    other_tenant: Tenant,
    rows: list[UsageRecord],
) -> None:
    before = {
        group_by: get_usage(api_client, group_by=group_by, **WEEK).json()
        for group_by in ("day", "resolution", "end_user_id")
    }
    theirs = [
        ledger_row(
            other_tenant,
            completed_at=row.completed_at,
            event_timestamp=row.event_timestamp,
            amount="9.999999",
            resolution=row.resolution,
            end_user_id=row.end_user_id,
        )
        for row in rows
    ]
    for group_by, body in before.items():
        assert get_usage(api_client, group_by=group_by, **WEEK).json() == body
    other_totals = get_usage(other_api_client, **WEEK).json()["totals"]
    assert other_totals["amount"] == six_places(sum((row.amount for row in theirs), Decimal(0)))


# --- OpenAPI ----------------------------------------------------------------------------


def test_schema_documents_usage_with_its_query_and_answer(db: None) -> None:
    schema = yaml.safe_load(Client().get("/api/schema/").content)
    operation = schema["paths"]["/api/v1/usage"]["get"]
    assert operation["operationId"] == "usage_retrieve"
    assert operation["security"] == [{"ApiKey": []}]
    names = {parameter["name"] for parameter in operation["parameters"]}
    assert names >= {"from", "to", "group_by", "end_user_id", "format"}
    content = operation["responses"]["200"]["content"]
    assert set(content) == {"application/json", "text/csv"}
    usage = schema["components"]["schemas"]["Usage"]
    assert set(usage["properties"]) == {"from", "to", "group_by", "currency", "totals", "groups"}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": "0001-01-01"}, "to"),
        ({"to": "9999-12-31T23:59:59Z"}, "to"),
        ({"from": "0001-01-01", "to": "9999-12-31T23:59:59Z"}, "to"),
        ({"from": "0001-01-01T00:00:00+12:00"}, "from"),
        ({"from": "2026-01-01", "to": "9999-12-31T23:59:59-12:00"}, "to"),
        ({"from": "10000-01-01"}, "from"),
        ({"from": "2026-01-01T00:00:00+99:00"}, "from"),
        ({"to": "9" * 40}, "to"),
    ],
    ids=[
        "year-1",
        "year-9999",
        "both-extremes",
        "before-year-1-in-utc",
        "after-9999-in-utc",
        "year-10000",
        "offset-overflow",
        "huge-number",
    ],
)
def test_extreme_dates_are_a_field_level_400(
    api_client: APIClient, query: dict[str, str], field: str
) -> None:
    response = api_client.get("/api/v1/usage", query)
    error = assert_error_shape(response, 400, "invalid_input")
    assert field in error["fields"]


@pytest.mark.parametrize(
    "window",
    [
        {"from": "0001-01-01", "to": "0001-06-01"},
        {"from": "9999-12-01", "to": "9999-12-31T23:59:59.999999Z"},
    ],
    ids=["year-1", "year-9999"],
)
@pytest.mark.parametrize("group_by", ["day", "resolution", "end_user_id"])
def test_windows_at_the_ends_of_the_calendar_answer_empty_usage(
    api_client: APIClient, window: dict[str, str], group_by: str
) -> None:
    response = api_client.get("/api/v1/usage", {**window, "group_by": group_by})
    assert response.status_code == 200
    assert response.json()["totals"]["runs"] == 0
