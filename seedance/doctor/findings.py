"""The doctor's data: sections of findings, each with a severity and what to do."""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import IntEnum
from typing import Any


class Severity(IntEnum):
    """Ordered, so a section's severity is its worst finding's."""

    OK = 0
    WARNING = 1
    PROBLEM = 2

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class Finding:
    """One thing found: ``code`` is stable (scripts and tests key on it), ``what`` is one
    line for a person, ``todo`` names the command or admin page that deals with it."""

    code: str
    severity: Severity
    what: str
    todo: str = ""
    count: int | None = None
    items: tuple[str, ...] = ()
    details: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity.label,
            "what": self.what,
            "todo": self.todo,
            "count": self.count,
            "items": list(self.items),
            "details": self.details,
        }


def ok(code: str, what: str, **details: Any) -> Finding:
    return Finding(code, Severity.OK, what, count=0, details=details)


@dataclass(frozen=True)
class Section:
    name: str
    title: str
    findings: tuple[Finding, ...]

    @property
    def severity(self) -> Severity:
        return max((finding.severity for finding in self.findings), default=Severity.OK)

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "severity": self.severity.label,
            "findings": [finding.as_json() for finding in self.findings],
        }


@dataclass(frozen=True)
class Context:
    """What every section is asked with: one ``now``, and whether to call outside services."""

    now: datetime
    offline: bool = False


@dataclass(frozen=True)
class Report:
    checked_at: datetime
    sections: tuple[Section, ...]

    @property
    def severity(self) -> Severity:
        return max((section.severity for section in self.sections), default=Severity.OK)

    @property
    def exit_code(self) -> int:
        """1 when any problem; warnings alone are 0 (they need a look, not a page)."""
        return 1 if self.severity is Severity.PROBLEM else 0

    def as_json(self) -> dict[str, Any]:
        return {
            "checked_at": self.checked_at.isoformat(),
            "severity": self.severity.label,
            "sections": [section.as_json() for section in self.sections],
        }


#: How many ids a finding lists; its count says how many there are in all.
ITEMS_SHOWN = 20


def shown(items: Any) -> tuple[str, ...]:
    return tuple(str(item) for item in list(items)[:ITEMS_SHOWN])


def admin_page(viewname: str, query: str = "") -> str:
    """An admin page as a link an operator can open (``PUBLIC_BASE_URL`` + path)."""
    from django.urls import reverse

    from seedance.conf import setting

    base = str(setting("PUBLIC_BASE_URL")).rstrip("/")
    return f"{base}{reverse(viewname)}{'?' + query if query else ''}"


def age(seconds: float) -> str:
    """3725 -> "1 h 2 min": how long, for a person."""
    minutes = int(seconds // 60)
    if minutes < 1:
        return f"{int(seconds)} s"
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{hours // 24} days"


def plain(amount: Decimal) -> str:
    """Decimal("10.500000") -> "10.5", the same on every database (never "1E+1")."""
    return format(amount.normalize(), "f")
