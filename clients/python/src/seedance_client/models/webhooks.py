"""Webhook endpoints, their deliveries and attempts, test events and event types."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Self

from seedance_client.models._parse import Json, datetime_or_none, parse_datetime


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
            next_attempt_at=datetime_or_none(data["next_attempt_at"]),
            delivered_at=datetime_or_none(data["delivered_at"]),
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
