"""Reading JSON values: ISO 8601 times to aware datetimes, decimal strings to Decimal."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

Json = Mapping[str, Any]


def parse_datetime(value: str) -> datetime:
    """ISO 8601 (``Z`` included) to an aware datetime; a naive one is read as UTC."""
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def datetime_or_none(value: str | None) -> datetime | None:
    return parse_datetime(value) if value is not None else None


def decimal_or_none(value: str | None) -> Decimal | None:
    return Decimal(value) if value is not None else None
