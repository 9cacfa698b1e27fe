"""usage_summary(): the tenant's ledger rows in [start, end), summed exactly per group."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from billing.models import UsageRecord
from billing.selectors import usage_summary
from seedance.models import Tenant
from tests.factories import make_run

DAY_1 = datetime(2026, 3, 10, tzinfo=UTC)
DAY_2 = DAY_1 + timedelta(days=1)
DAY_3 = DAY_1 + timedelta(days=2)
RANGE = {"start": DAY_1, "end": DAY_1 + timedelta(days=7)}


def ledger_row(
    tenant: Tenant,
    *,
    completed_at: datetime,
    amount: str | Decimal,
    seconds: int = 5,
    resolution: str = "720p",
    end_user_id: str = "",
    event_timestamp: datetime | None = None,
) -> UsageRecord:
    """One billable run's ledger row, written directly (the ledger is what is read); its
    meter event is timestamped at completion unless said otherwise."""
    run = make_run(tenant, resolution=resolution, end_user_id=end_user_id)
    return UsageRecord.objects.create(
        run=run,
        tenant=tenant,
        end_user_id=end_user_id,
        resolution=resolution,
        seconds=seconds,
        unit_price=Decimal("0.241900"),
        amount=Decimal(amount),
        completed_at=completed_at,
        event_timestamp=event_timestamp or completed_at,
        identifier=f"test:{run.pk}",
    )


def sums_by(rows: list[UsageRecord], key: Any) -> dict[str, tuple[int, int, Decimal]]:
    """Expected (runs, seconds, amount) per group key, added up in Python Decimal."""
    expected: dict[str, tuple[int, int, Decimal]] = {}
    for row in rows:
        runs, seconds, amount = expected.get(key(row), (0, 0, Decimal(0)))
        expected[key(row)] = (runs + 1, seconds + row.seconds, amount + row.amount)
    return expected


@pytest.fixture
def rows(tenant: Tenant) -> list[UsageRecord]:
    """Several days, both resolutions, three end users (one blank), sub-cent amounts."""
    return [
        ledger_row(tenant, completed_at=DAY_1, amount="1.209500", end_user_id="alice"),
        ledger_row(
            tenant,
            completed_at=DAY_1 + timedelta(hours=23, minutes=59, seconds=59, microseconds=999999),
            amount="0.432000",
            seconds=4,
            resolution="480p",
            end_user_id="bob",
        ),
        ledger_row(tenant, completed_at=DAY_2, amount="3.628500", seconds=15),
        ledger_row(
            tenant,
            completed_at=DAY_2 + timedelta(hours=12),
            amount="0.000001",
            resolution="480p",
            end_user_id="alice",
        ),
        ledger_row(tenant, completed_at=DAY_3 + timedelta(hours=5), amount="2.419000", seconds=10),
    ]


def as_tuples(summary: Any) -> dict[str, tuple[int, int, Decimal]]:
    return {group.key: (group.runs, group.seconds, group.amount) for group in summary.groups}


def test_groups_by_utc_day_of_completion_with_exact_decimal_sums(
    tenant: Tenant, rows: list[UsageRecord]
) -> None:
    summary = usage_summary(tenant=tenant, group_by="day", **RANGE)
    assert as_tuples(summary) == sums_by(rows, lambda row: row.completed_at.date().isoformat())
    assert [group.key for group in summary.groups] == ["2026-03-10", "2026-03-11", "2026-03-12"]


def test_groups_by_resolution(tenant: Tenant, rows: list[UsageRecord]) -> None:
    summary = usage_summary(tenant=tenant, group_by="resolution", **RANGE)
    assert as_tuples(summary) == sums_by(rows, lambda row: row.resolution)
    assert [group.key for group in summary.groups] == ["480p", "720p"]


def test_groups_by_end_user_with_a_blank_key_for_runs_without_one(
    tenant: Tenant, rows: list[UsageRecord]
) -> None:
    summary = usage_summary(tenant=tenant, group_by="end_user_id", **RANGE)
    assert as_tuples(summary) == sums_by(rows, lambda row: row.end_user_id)
    assert [group.key for group in summary.groups] == ["", "alice", "bob"]


def test_totals_equal_the_ledger_sums(tenant: Tenant, rows: list[UsageRecord]) -> None:
    totals = usage_summary(tenant=tenant, group_by="day", **RANGE).totals
    assert totals.runs == len(rows)
    assert totals.seconds == sum(row.seconds for row in rows)
    assert totals.amount == sum((row.amount for row in rows), Decimal(0))
    assert str(totals.amount) == "7.689001"


def test_amounts_keep_the_ledgers_six_decimal_places(tenant: Tenant) -> None:
    ledger_row(tenant, completed_at=DAY_1, amount="2.000000")
    summary = usage_summary(tenant=tenant, group_by="day", **RANGE)
    assert str(summary.groups[0].amount) == "2.000000"
    assert str(summary.totals.amount) == "2.000000"


def test_many_sub_cent_amounts_add_up_exactly(tenant: Tenant) -> None:
    amounts = [Decimal("0.100000"), Decimal("0.200000"), Decimal("0.241900")] * 10
    for amount in amounts:
        ledger_row(tenant, completed_at=DAY_1, amount=amount)
    assert usage_summary(tenant=tenant, group_by="day", **RANGE).totals.amount == sum(amounts)


def test_start_is_inclusive_and_end_is_exclusive(tenant: Tenant) -> None:
    ledger_row(tenant, completed_at=DAY_1 - timedelta(microseconds=1), amount="1.000000")
    at_start = ledger_row(tenant, completed_at=DAY_1, amount="0.432000")
    before_end = ledger_row(
        tenant, completed_at=DAY_2 - timedelta(microseconds=1), amount="0.100000"
    )
    ledger_row(tenant, completed_at=DAY_2, amount="5.000000")
    totals = usage_summary(tenant=tenant, start=DAY_1, end=DAY_2, group_by="day").totals
    assert totals.runs == 2
    assert totals.amount == at_start.amount + before_end.amount


def test_end_user_filter_keeps_only_that_end_users_rows(
    tenant: Tenant, rows: list[UsageRecord]
) -> None:
    summary = usage_summary(tenant=tenant, group_by="resolution", end_user_id="alice", **RANGE)
    alices = [row for row in rows if row.end_user_id == "alice"]
    assert as_tuples(summary) == sums_by(alices, lambda row: row.resolution)


def test_days_are_utc_days_whatever_the_active_time_zone(tenant: Tenant) -> None:
    # 02:30 UTC on the 11th is still the 10th in New York.
    ledger_row(tenant, completed_at=DAY_2 + timedelta(hours=2, minutes=30), amount="1.000000")
    with timezone.override(ZoneInfo("America/New_York")):
        summary = usage_summary(tenant=tenant, group_by="day", **RANGE)
    assert [group.key for group in summary.groups] == ["2026-03-11"]


def test_no_usage_is_zero_totals_and_no_groups(tenant: Tenant) -> None:
    summary = usage_summary(tenant=tenant, group_by="day", **RANGE)
    assert summary.groups == []
    assert (summary.totals.runs, summary.totals.seconds) == (0, 0)
    assert str(summary.totals.amount) == "0.000000"


def test_another_tenants_rows_on_the_same_days_are_never_counted(
    tenant: Tenant, other_tenant: Tenant, rows: list[UsageRecord]
) -> None:
    before = usage_summary(tenant=tenant, group_by="end_user_id", **RANGE)
    for row in rows:
        ledger_row(
            other_tenant,
            completed_at=row.completed_at,
            event_timestamp=row.event_timestamp,
            amount="9.999999",
            end_user_id=row.end_user_id,
            resolution=row.resolution,
        )
    assert usage_summary(tenant=tenant, group_by="end_user_id", **RANGE) == before
    theirs = usage_summary(tenant=other_tenant, group_by="day", **RANGE).totals
    assert theirs.amount == Decimal("9.999999") * len(rows)


def test_rows_count_in_the_period_their_meter_event_is_timestamped_in(tenant: Tenant) -> None:
    """A row re-dated into the next period (sent after the grace hour) is billed there."""
    late = ledger_row(
        tenant, completed_at=DAY_1 - timedelta(hours=2), event_timestamp=DAY_1, amount="1.5"
    )
    ledger_row(tenant, completed_at=DAY_1, event_timestamp=DAY_1 - timedelta(hours=2), amount="7")
    summary = usage_summary(tenant=tenant, start=DAY_1, end=DAY_2, group_by="day")
    assert summary.totals.amount == late.amount
