"""Runflow's JSON in and out: the create body, and run objects and callbacks parsed into
one normalized ``ProviderRun`` that the rest of the app speaks."""

import logging
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.dateparse import parse_datetime

from seedance.states import RunStatus

logger = logging.getLogger(__name__)

#: Our run id rides in the create's metadata under this key, so a callback that beats the
#: create answer can still be matched to its run.
RUN_ID_METADATA_KEY = "seedance_run_id"

#: Runflow's words for a run's state, and the callbacks' spellings, mapped to ours.
STATUS_MAP: dict[str, str] = {
    "queued": RunStatus.QUEUED,
    "dispatching": RunStatus.RUNNING,
    "running": RunStatus.RUNNING,
    "succeeded": RunStatus.SUCCEEDED,
    "completed": RunStatus.SUCCEEDED,
    "failed": RunStatus.FAILED,
    "canceled": RunStatus.CANCELED,
    "cancelled": RunStatus.CANCELED,
    # Runflow's sample code treats it as terminal: a run that errored will not finish.
    "errored": RunStatus.FAILED,
    # Multi-output runs only; a single-video run that partly succeeded produced its video.
    "partial_succeeded": RunStatus.SUCCEEDED,
}


MAX_INT = 2**63 - 1
MAX_COST = Decimal(10) ** 6
COST_PLACES = Decimal("0.000001")
MAX_JSON_DEPTH = 32


class PayloadError(ValueError):
    """A Runflow body that does not have the shape we need."""


@dataclass(frozen=True)
class ProviderRun:
    id: str
    status: str
    raw_status: str
    client_ref: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    outputs: list[dict[str, Any]] = field(default_factory=list)
    seed: int | None = None
    nsfw_detected: bool | None = None
    timing: dict[str, Any] | None = None
    duration_ms: int | None = None
    cost: Decimal | None = None
    created_at: datetime | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    failure_code: str = ""
    failure_message: str = ""
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def is_terminal(self) -> bool:
        return self.status in RunStatus.terminal()

    @property
    def our_run_id(self) -> str | None:
        value = self.metadata.get(RUN_ID_METADATA_KEY)
        return str(value) if value is not None else None


def create_body(
    *, run_input: dict[str, Any], client_ref: str, callback_url: str | None
) -> dict[str, Any]:
    return {
        "input": run_input,
        "client_ref": client_ref,
        "callback_url": callback_url,
        "metadata": {RUN_ID_METADATA_KEY: client_ref},
    }


def parse_run(data: Any) -> ProviderRun:
    """A run object from create, get or list."""
    if not isinstance(data, dict):
        raise PayloadError("run object is not a JSON object")
    error = _error_object(data)
    return _provider_run(
        data,
        run_id=data.get("id"),
        raw_status=data.get("status_code") or data.get("status"),
        output=data.get("output"),
        failure_code=data.get("failure_code") or error.get("code") or "",
        failure_message=data.get("failure_message") or error.get("message") or "",
    )


def parse_callback(data: Any) -> ProviderRun:
    """A callback body: ``event``, ``run_id``, ``status``, ``output`` and timing."""
    if not isinstance(data, dict):
        raise PayloadError("callback body is not a JSON object")
    error = _error_object(data)
    return _provider_run(
        data,
        run_id=data.get("run_id"),
        raw_status=data.get("status") or _status_from_event(data.get("event")),
        output=data.get("output"),
        failure_code=data.get("failure_code") or error.get("code") or "",
        failure_message=data.get("failure_message") or error.get("message") or "",
    )


def _error_object(data: dict[str, Any]) -> dict[str, Any]:
    """Failed runs carry ``error: {code, message}`` (what Runflow's SDK reads)."""
    error = data.get("error")
    return error if isinstance(error, dict) else {}


def _status_from_event(event: Any) -> str | None:
    if isinstance(event, str) and event.startswith("run."):
        return event.removeprefix("run.")
    return None


def _provider_run(
    data: dict[str, Any],
    *,
    run_id: Any,
    raw_status: Any,
    output: Any,
    failure_code: Any,
    failure_message: Any,
) -> ProviderRun:
    if not isinstance(run_id, str) or not run_id:
        raise PayloadError("missing run id")
    if not isinstance(raw_status, str) or not raw_status:
        raise PayloadError("missing status")
    status = STATUS_MAP.get(raw_status.lower())
    if status is None:
        logger.warning(
            "Unknown Runflow status %r on run %s; treating as running", raw_status, run_id
        )
        status = RunStatus.RUNNING
    if output is not None and not isinstance(output, dict):
        raise PayloadError("output is not an object")
    output = output or {}
    outputs = output.get("outputs") or []
    if not isinstance(outputs, list) or not all(isinstance(o, dict) for o in outputs):
        raise PayloadError("output.outputs is not a list of objects")
    metadata = data.get("metadata")
    return ProviderRun(
        id=_clean_text(run_id)[:64],
        status=status,
        raw_status=_clean_text(raw_status)[:32],
        client_ref=_str_or_none(data.get("client_ref")),
        metadata=_clean_json(metadata) if isinstance(metadata, dict) else {},
        outputs=_clean_json(outputs),
        seed=_int_or_none(output.get("seed")),
        nsfw_detected=output.get("nsfw_detected")
        if isinstance(output.get("nsfw_detected"), bool)
        else None,
        timing=_clean_json(output.get("timing"))
        if isinstance(output.get("timing"), dict)
        else None,
        duration_ms=_int_or_none(data.get("duration_ms")),
        cost=_decimal_or_none(data.get("cost")),
        created_at=_datetime_or_none(data.get("created_at")),
        started_at=_datetime_or_none(data.get("started_at")),
        completed_at=_datetime_or_none(data.get("completed_at")),
        failure_code=_clean_text(str(failure_code or ""))[:64],
        failure_message=_clean_text(str(failure_message or ""))[:4000],
        raw=data,
    )


def _str_or_none(value: Any) -> str | None:
    return _clean_text(value) if isinstance(value, str) else None


def _clean_text(value: str) -> str:
    """PostgreSQL stores no NUL; a sender's NUL must not turn into our 500."""
    return value.replace("\x00", "")


def _clean_json(value: Any, depth: int = 0) -> Any:
    """JSON we store as-is: no NULs, no NaN or infinities, bounded nesting."""
    if depth > MAX_JSON_DEPTH:
        return None
    if isinstance(value, str):
        return _clean_text(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_INT:
        return None
    if isinstance(value, dict):
        return {_clean_text(str(k)): _clean_json(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean_json(item, depth + 1) for item in value]
    return value


def _int_or_none(value: Any) -> int | None:
    """A non-negative integer that fits our columns, or None."""
    if isinstance(value, bool):
        return None
    whole_float = isinstance(value, float) and math.isfinite(value) and value.is_integer()
    digits = isinstance(value, str) and value.strip().isdigit()
    if whole_float or digits:
        value = int(value)
    if isinstance(value, int) and 0 <= value <= MAX_INT:
        return value
    return None


def _decimal_or_none(value: Any) -> Decimal | None:
    """Runflow's cost, bounded to what the column holds (12 digits, 6 places)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        # str() first: a float cost must not carry binary noise into money.
        result = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    if not result.is_finite() or not 0 <= result < MAX_COST:
        logger.warning("Ignoring a Runflow cost out of range: %r", value)
        return None
    return result.quantize(COST_PLACES)


def _datetime_or_none(value: Any) -> datetime | None:
    """ISO 8601; a timestamp without an offset is read as UTC, never as local time."""
    if not isinstance(value, str):
        return None
    try:
        parsed = parse_datetime(value)
    except ValueError:
        return None
    if parsed is not None and parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed
