"""A run, its output files, its failure and its charge."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Self

from seedance_client.models._parse import Json, datetime_or_none, parse_datetime

#: Statuses a run never leaves.
TERMINAL_STATUSES = frozenset({"succeeded", "failed", "canceled"})


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
            expires_at=datetime_or_none(data["expires_at"]),
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
            submitted_at=datetime_or_none(data["submitted_at"]),
            started_at=datetime_or_none(data["started_at"]),
            completed_at=datetime_or_none(data["completed_at"]),
        )
