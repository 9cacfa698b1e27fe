"""The usage page's CSV: the period's ledger rows one per run, as the page counts them
(the tenant's, or one member's own), with exact Decimal amounts and UTC ISO times."""

import csv
import io
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from billing.models import UsageRecord
from seedance.models import Tenant

CSV_HEADER = (
    "run_id",
    "created",
    "end_user",
    "resolution",
    "seconds",
    "unit_price",
    "amount",
    "state",
)


def usage_rows(
    *, tenant: Tenant, start: datetime, end: datetime, end_user_id: str | None
) -> "Iterable[Mapping[str, Any]]":
    """Ledger rows whose meter event falls in [start, end), as ``usage_summary`` groups them
    (voided rows included, their state says they are not billed)."""
    records = UsageRecord.objects.for_tenant(tenant).filter(
        event_timestamp__gte=start, event_timestamp__lt=end
    )
    if end_user_id is not None:
        records = records.filter(end_user_id=end_user_id)
    rows: Iterable[Mapping[str, Any]] = records.order_by("event_timestamp", "pk").values(
        "run_id",
        "run__created_at",
        "end_user_id",
        "resolution",
        "seconds",
        "unit_price",
        "amount",
        "push_state",
    )
    return rows


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def usage_csv(rows: "Iterable[Mapping[str, Any]]") -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for row in rows:
        writer.writerow(
            (
                row["run_id"],
                _utc(row["run__created_at"]),
                row["end_user_id"],
                row["resolution"],
                row["seconds"],
                f"{row['unit_price']:f}",
                f"{row['amount']:f}",
                row["push_state"],
            )
        )
    return out.getvalue()
