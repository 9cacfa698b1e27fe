"""``GET /v1/runs``: Runflow's ``q`` filter and its ``pq``/``limit`` paging, on our runs.

``q`` is clauses joined by ``AND``: ``status_code:succeeded`` (``a,b`` for either),
``created_at>2026-12-01T00:00:00Z`` (also ``>=``, ``<``, ``<=``; a date is midnight UTC),
``client_ref:...`` and ``end_user_id:...``; a value may be double-quoted. A clause we do
not understand is a 422 naming it, never ignored: a dropped filter answers the wrong list.
"""

import re
from datetime import UTC, datetime, time
from typing import Any
from urllib.parse import parse_qs, urlsplit

from django.db.models import Q, QuerySet
from django.utils.dateparse import parse_date, parse_datetime
from rest_framework.exceptions import ValidationError

from seedance.api.views import RunCursorPagination
from seedance.models import Run
from seedance.states import RunStatus

_CLAUSE = re.compile(r"^\s*([a-z_]+)\s*(>=|<=|:|>|<)\s*(.+?)\s*$")
_AND = re.compile(r"\s+AND\s+", re.IGNORECASE)
_COMPARISONS = {">": "gt", ">=": "gte", "<": "lt", "<=": "lte"}
_EQUALS = {"client_ref": "client_ref", "end_user_id": "end_user_id"}


class RunflowPagination(RunCursorPagination):
    """DRF's cursor paging under Runflow's names: ``pq`` and ``limit`` (at most 500)."""

    cursor_query_param = "pq"
    max_page_size = 500
    query_params = ("pq", "limit")

    def page_tokens(self) -> dict[str, str | None]:
        return {
            "next_pq": self._pq(self.get_next_link()),
            "prev_pq": self._pq(self.get_previous_link()),
        }

    def _pq(self, link: str | None) -> str | None:
        if link is None:
            return None
        return parse_qs(urlsplit(link).query).get(self.cursor_query_param, [None])[0]


def runs_matching(runs: "QuerySet[Run]", q: str | None) -> "QuerySet[Run]":
    """``runs`` narrowed by ``q``; ``runs`` must carry ``runflow_status`` (compat.shapes)."""
    if q is None or not q.strip():
        return runs
    condition = Q()
    for clause in _AND.split(q.strip()):
        condition &= _condition(clause)
    return runs.filter(condition)


def _condition(clause: str) -> Q:
    match = _CLAUSE.match(clause)
    if match is None:
        raise _refused(f"{clause!r} is not field:value or field>value.")
    field, operator, raw = match.groups()
    value = _unquoted(raw)
    if "\x00" in value:
        raise _refused("Values must not contain NUL characters.")
    if field == "status_code" and operator == ":":
        statuses = [part.strip() for part in value.split(",")]
        if unknown := [status for status in statuses if status not in RunStatus.values]:
            raise _refused(
                f"Unknown status_code {', '.join(unknown)}: one of {', '.join(RunStatus.values)}."
            )
        return Q(runflow_status__in=statuses)
    if field == "created_at" and operator in _COMPARISONS:
        return Q(**{f"created_at__{_COMPARISONS[operator]}": _moment(value)})
    if field in _EQUALS and operator == ":":
        return Q(**{_EQUALS[field]: value})
    raise _refused(
        f"Cannot filter by {field}{operator}: use status_code:, created_at>, created_at<, "
        "client_ref: or end_user_id:."
    )


def _unquoted(raw: str) -> str:
    if len(raw) >= 2 and raw[0] == raw[-1] == '"':
        return raw[1:-1]
    return raw


def _moment(value: str) -> datetime:
    try:
        moment = parse_datetime(value)
        day = None if moment else parse_date(value)
    except ValueError:
        moment = day = None
    if day is not None:
        return datetime.combine(day, time(), tzinfo=UTC)
    if moment is None:
        raise _refused(f"{value!r} is not an ISO 8601 date or datetime.")
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _refused(message: str) -> ValidationError:
    return ValidationError({"q": [message]})


def page_body(items: list[dict[str, Any]], paginator: RunflowPagination) -> dict[str, Any]:
    return {"items": items, **paginator.page_tokens()}
