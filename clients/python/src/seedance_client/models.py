"""What the API answers, as frozen dataclasses: times are aware datetimes, money is Decimal.

Each ``from_json`` reads the fields it knows and ignores the rest, so a server that adds
a field never breaks an older client. Field names follow the API's JSON, except
``Usage.from_`` (``from`` is a Python keyword).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

Json = Mapping[str, Any]

#: Statuses a run never leaves.
TERMINAL_STATUSES = frozenset({"succeeded", "failed", "canceled"})


def parse_datetime(value: str) -> datetime:
    """ISO 8601 (``Z`` included) to an aware datetime; a naive one is read as UTC."""
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _datetime_or_none(value: str | None) -> datetime | None:
    return parse_datetime(value) if value is not None else None


def _decimal_or_none(value: str | None) -> Decimal | None:
    return Decimal(value) if value is not None else None


@dataclass(frozen=True)
class OutputFile:
    url: str | None
    type: str
    width: int | None
    height: int | None
    duration: float | None
    expires_at: datetime | None

    @classmethod
    def from_json(cls, data: Json) -> Self:
        return cls(
            url=data["url"],
            type=data["type"],
            width=data["width"],
            height=data["height"],
            duration=data["duration"],
            expires_at=_datetime_or_none(data["expires_at"]),
        )


@dataclass(frozen=True)
class RunOutput:
    outputs: tuple[OutputFile, ...]
    withheld: str | None
    seed: int | None
    nsfw_detected: bool | None
    timing: dict[str, Any] | None

    @classmethod
    def from_json(cls, data: Json) -> Self:
        return cls(
            outputs=tuple(OutputFile.from_json(item) for item in data["outputs"]),
            withheld=data["withheld"],
            seed=data["seed"],
            nsfw_detected=data["nsfw_detected"],
            timing=data["timing"],
        )


@dataclass(frozen=True)
class Failure:
    code: str
    message: str

    @classmethod
    def from_json(cls, data: Json) -> Self:
        return cls(code=data["code"], message=data["message"])


@dataclass(frozen=True)
class Charge:
    """What the run costs the tenant; ``state`` says whether it is an estimate or billed."""

    state: str
    amount: Decimal
    currency: str
    unit_price: Decimal
    seconds: int | None
    meter_event_identifier: str | None

    @classmethod
    def from_json(cls, data: Json) -> Self:
        return cls(
            state=data["state"],
            amount=Decimal(data["amount"]),
            currency=data["currency"],
            unit_price=Decimal(data["unit_price"]),
            seconds=data["seconds"],
            meter_event_identifier=data["meter_event_identifier"],
        )


@dataclass(frozen=True)
class Run:
    id: str
    status: str
    prompt: str
    aspect_ratio: str
    duration: str
    resolution: str
    generate_audio: bool
    seed: int | None
    end_user_id: str
    metadata: dict[str, Any]
    output: RunOutput | None
    failure: Failure | None
    moderation: str
    billable: bool | None
    charge: Charge | None
    duration_ms: int | None
    created_at: datetime
    submitted_at: datetime | None
    started_at: datetime | None
    completed_at: datetime | None
    #: True when a create was answered with an earlier create's run (its
    #: ``Idempotency-Key`` seen before): the ``Idempotent-Replayed`` header, not the body.
    replayed: bool = False

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @property
    def outputs(self) -> tuple[OutputFile, ...]:
        """The output files, empty until the run succeeded (or while withheld)."""
        return self.output.outputs if self.output is not None else ()

    @classmethod
    def from_json(cls, data: Json) -> Self:
        output, failure = data["output"], data["failure"]
        charge = data.get("charge")  # absent from servers older than the charge
        return cls(
            id=data["id"],
            status=data["status"],
            prompt=data["prompt"],
            aspect_ratio=data["aspect_ratio"],
            duration=data["duration"],
            resolution=data["resolution"],
            generate_audio=data["generate_audio"],
            seed=data["seed"],
            end_user_id=data["end_user_id"],
            metadata=dict(data["metadata"] or {}),
            output=RunOutput.from_json(output) if output is not None else None,
            failure=Failure.from_json(failure) if failure is not None else None,
            moderation=data["moderation"],
            billable=data["billable"],
            charge=Charge.from_json(charge) if charge is not None else None,
            duration_ms=data["duration_ms"],
            created_at=parse_datetime(data["created_at"]),
            submitted_at=_datetime_or_none(data["submitted_at"]),
            started_at=_datetime_or_none(data["started_at"]),
            completed_at=_datetime_or_none(data["completed_at"]),
        )


@dataclass(frozen=True)
class Page[T]:
    """One page of a cursor-paged list; ``next_cursor`` asks for the following one."""

    results: tuple[T, ...]
    next: str | None
    previous: str | None

    @property
    def next_cursor(self) -> str | None:
        return _cursor(self.next)

    @property
    def previous_cursor(self) -> str | None:
        return _cursor(self.previous)

    @classmethod
    def from_json(cls, data: Json, item: Callable[[Json], T]) -> Page[T]:
        return cls(
            results=tuple(item(entry) for entry in data["results"]),
            next=data["next"],
            previous=data["previous"],
        )


def _cursor(link: str | None) -> str | None:
    """The opaque cursor of a page link: the client asks its own base URL, not the link's."""
    if link is None:
        return None
    values = parse_qs(urlsplit(link).query).get("cursor")
    return values[0] if values else None


RunPage = Page[Run]


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
            cap=_decimal_or_none(data["cap"]),
            remaining=_decimal_or_none(data["remaining"]),
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


@dataclass(frozen=True)
class WebhookEndpoint:
    id: str
    url: str
    events: tuple[str, ...]
    description: str
    enabled: bool
    disabled_reason: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def _values(cls, data: Json) -> dict[str, Any]:
        return {
            "id": data["id"],
            "url": data["url"],
            "events": tuple(data["events"]),
            "description": data["description"],
            "enabled": data["enabled"],
            "disabled_reason": data["disabled_reason"],
            "created_at": parse_datetime(data["created_at"]),
            "updated_at": parse_datetime(data["updated_at"]),
        }

    @classmethod
    def from_json(cls, data: Json) -> Self:
        return cls(**cls._values(data))


@dataclass(frozen=True)
class WebhookEndpointCreated(WebhookEndpoint):
    """The endpoint with its signing secret (``whsec_...``), shown only in this answer."""

    secret: str

    @classmethod
    def _values(cls, data: Json) -> dict[str, Any]:
        return {**super()._values(data), "secret": data["secret"]}


@dataclass(frozen=True)
class WebhookEndpointRotated(WebhookEndpointCreated):
    """The new secret; the previous one still signs beside it until the moment given."""

    previous_secret_expires_at: datetime

    @classmethod
    def _values(cls, data: Json) -> dict[str, Any]:
        expires = parse_datetime(data["previous_secret_expires_at"])
        return {**super()._values(data), "previous_secret_expires_at": expires}


@dataclass(frozen=True)
class WebhookAttempt:
    number: int
    sent_at: datetime
    status_code: int | None
    error: str
    latency_ms: int
    response_body: str

    @classmethod
    def from_json(cls, data: Json) -> Self:
        return cls(
            number=data["number"],
            sent_at=parse_datetime(data["sent_at"]),
            status_code=data["status_code"],
            error=data["error"],
            latency_ms=data["latency_ms"],
            response_body=data["response_body"],
        )


@dataclass(frozen=True)
class WebhookDelivery:
    id: int
    event_id: str
    event_type: str
    subject_id: str
    state: str
    attempts: int
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    last_status: int | None
    last_error: str
    created_at: datetime
    log: tuple[WebhookAttempt, ...]

    @classmethod
    def from_json(cls, data: Json) -> Self:
        return cls(
            id=data["id"],
            event_id=data["event_id"],
            event_type=data["event_type"],
            subject_id=data["subject_id"],
            state=data["state"],
            attempts=data["attempts"],
            next_attempt_at=_datetime_or_none(data["next_attempt_at"]),
            delivered_at=_datetime_or_none(data["delivered_at"]),
            last_status=data["last_status"],
            last_error=data["last_error"],
            created_at=parse_datetime(data["created_at"]),
            log=tuple(WebhookAttempt.from_json(attempt) for attempt in data["log"]),
        )


@dataclass(frozen=True)
class WebhookTestEvent:
    event_id: str
    event_type: str

    @classmethod
    def from_json(cls, data: Json) -> Self:
        return cls(event_id=data["event_id"], event_type=data["event_type"])


@dataclass(frozen=True)
class EventType:
    type: str
    description: str

    @classmethod
    def from_json(cls, data: Json) -> Self:
        return cls(type=data["type"], description=data["description"])
