"""Listing runs as Runflow does: newest first, opaque ``pq`` cursors, a small ``q`` language.

``q`` understands ``status_code:<value>``, ``client_ref:<value>``, ``created_at>ISO`` and
``created_at<ISO`` joined by ``AND``; anything else is refused, never silently ignored.
"""

import base64
import binascii
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .store import STATUSES, SandboxRun

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


@dataclass
class RunQuery:
    """A parsed ``q``: every clause must hold for a run to be listed."""

    status_code: str | None = None
    client_ref: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None


_CLAUSE = re.compile(r"^(status_code|client_ref):(.+)$|^created_at([<>])(.+)$")


def _moment(text: str) -> datetime:
    # An unencoded "+" in a query string arrives as a space; read it back as the offset.
    moment = datetime.fromisoformat(re.sub(r" (\d\d:?\d\d)$", r"+\1", text.strip()))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def parse_query(q: str) -> RunQuery:
    """Parse ``status_code:x AND created_at>ISO ...``; raise ValueError on anything else."""
    query = RunQuery()
    if not q.strip():
        return query
    for clause in re.split(r"\s+AND\s+", q.strip()):
        match = _CLAUSE.match(clause.strip())
        if match is None:
            raise ValueError(f"Cannot parse clause {clause!r}.")
        name, value, op, moment = match.groups()
        if name == "status_code":
            if value not in STATUSES:
                raise ValueError(f"Unknown status_code {value!r}.")
            query.status_code = value
        elif name == "client_ref":
            query.client_ref = value
        else:
            try:
                when = _moment(moment)
            except ValueError as exc:
                raise ValueError(f"Bad timestamp {moment!r}.") from exc
            if op == ">":
                query.created_after = when
            else:
                query.created_before = when
    return query


def parse_limit(raw: str | None) -> int:
    if raw is None or raw == "":
        return DEFAULT_LIMIT
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise ValueError(f"Must be an integer from 1 to {MAX_LIMIT}.")
    return int(raw)


def encode_cursor(direction: str, seq: int) -> str:
    raw = json.dumps({"d": direction, "s": seq}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(pq: str) -> tuple[str, int]:
    """Read an opaque ``pq``: ("after", seq) pages to older runs, ("before", seq) newer."""
    try:
        data = json.loads(base64.urlsafe_b64decode(pq + "=" * (-len(pq) % 4)))
        direction, seq = data["d"], data["s"]
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise ValueError("Not a cursor this server issued.") from exc
    if direction not in ("after", "before") or not isinstance(seq, int):
        raise ValueError("Not a cursor this server issued.")
    return direction, seq


def matches(run: SandboxRun, query: RunQuery) -> bool:
    if query.status_code is not None and run.status_code != query.status_code:
        return False
    if query.client_ref is not None and run.client_ref != query.client_ref:
        return False
    if query.created_after is not None and run.created_at <= query.created_after:
        return False
    return query.created_before is None or run.created_at < query.created_before


def page(newest_first: list[SandboxRun], limit: int, pq: str | None) -> dict[str, Any]:
    """One page of runs with cursors to either side; call it under the store lock."""
    runs = newest_first
    if pq:
        direction, seq = decode_cursor(pq)
        if direction == "after":
            chosen = [run for run in runs if run.seq < seq][:limit]
        else:
            chosen = [run for run in runs if run.seq > seq][-limit:]
    else:
        chosen = runs[:limit]
    older = bool(chosen) and runs[-1].seq < chosen[-1].seq
    newer = bool(chosen) and runs[0].seq > chosen[0].seq
    return {
        "items": [run.to_json() for run in chosen],
        "next_pq": encode_cursor("after", chosen[-1].seq) if older else None,
        "prev_pq": encode_cursor("before", chosen[0].seq) if newer else None,
    }
