"""Usage, limits and price estimates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Self

from seedance_client.models._parse import Json, decimal_or_none, parse_datetime


@dataclass(frozen=True)
class UsageTotals:
    runs: int
    seconds: int
    amount: Decimal

    @classmethod
    def from_json(cls, data: Json) -> Self:
        return cls(runs=data["runs"], seconds=data["seconds"], amount=Decimal(data["amount"]))


@dataclass(frozen=True)
class UsageGroup:
    key: str
    runs: int
    seconds: int
    amount: Decimal

    @classmethod
    def from_json(cls, data: Json) -> Self:
        return cls(
            key=data["key"],
            runs=data["runs"],
            seconds=data["seconds"],
            amount=Decimal(data["amount"]),
        )


@dataclass(frozen=True)
class Usage:
    from_: datetime
    to: datetime
    group_by: str
    currency: str
    totals: UsageTotals
    groups: tuple[UsageGroup, ...]

    @classmethod
    def from_json(cls, data: Json) -> Self:
        return cls(
            from_=parse_datetime(data["from"]),
            to=parse_datetime(data["to"]),
            group_by=data["group_by"],
            currency=data["currency"],
            totals=UsageTotals.from_json(data["totals"]),
            groups=tuple(UsageGroup.from_json(group) for group in data["groups"]),
        )


@dataclass(frozen=True)
class Spend:
    spent: Decimal
    cap: Decimal | None
    remaining: Decimal | None

    @classmethod
    def from_json(cls, data: Json) -> Self:
        return cls(
            spent=Decimal(data["spent"]),
            cap=decimal_or_none(data["cap"]),
            remaining=decimal_or_none(data["remaining"]),
        )


@dataclass(frozen=True)
class Limits:
    month: Spend
    end_user: Spend | None
    max_in_flight_runs: int | None
    subscription_status: str

    @classmethod
    def from_json(cls, data: Json) -> Self:
        end_user = data["end_user"]
        return cls(
            month=Spend.from_json(data["month"]),
            end_user=Spend.from_json(end_user) if end_user is not None else None,
            max_in_flight_runs=data["max_in_flight_runs"],
            subscription_status=data["subscription_status"],
        )


@dataclass(frozen=True)
class PriceEstimate:
    resolution: str
    duration: str
    currency: str
    unit_price: Decimal
    min_seconds: int
    max_seconds: int
    min_amount: Decimal
    max_amount: Decimal

    @classmethod
    def from_json(cls, data: Json) -> Self:
        return cls(
            resolution=data["resolution"],
            duration=data["duration"],
            currency=data["currency"],
            unit_price=Decimal(data["unit_price"]),
            min_seconds=data["min_seconds"],
            max_seconds=data["max_seconds"],
            min_amount=Decimal(data["min_amount"]),
            max_amount=Decimal(data["max_amount"]),
        )
