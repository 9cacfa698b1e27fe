"""The sections ``runs_doctor`` prints, registered by the apps that own them."""

import logging
from collections.abc import Callable
from datetime import datetime

from django.utils import timezone

from seedance.doctor.findings import Context, Finding, Report, Section, Severity

logger = logging.getLogger(__name__)

SectionCheck = Callable[[Context], Section]

_SECTIONS: dict[str, SectionCheck] = {}


def register_section(name: str, check: SectionCheck) -> None:
    """Add a section (idempotent by name: ``ready()`` may run twice); printed in the order
    first registered, so seedance's come before those of apps installed after it."""
    _SECTIONS[name] = check


def registered_sections() -> list[str]:
    return list(_SECTIONS)


def run_doctor(*, offline: bool = False, now: datetime | None = None) -> Report:
    context = Context(now=now or timezone.now(), offline=offline)
    return Report(
        checked_at=context.now,
        sections=tuple(_guarded(name, check, context) for name, check in _SECTIONS.items()),
    )


def _guarded(name: str, check: SectionCheck, context: Context) -> Section:
    """One section's failure (a table missing, the broker down) is its own problem line,
    never the end of the report."""
    try:
        return check(context)
    except Exception as error:
        logger.exception("runs_doctor section %s failed", name)
        failed = Finding(
            f"{name}.failed",
            Severity.PROBLEM,
            f"This section could not be checked: {type(error).__name__}: {error}",
            todo="Read the traceback in the log; the rest of the report still stands.",
        )
        return Section(name=name, title=name, findings=(failed,))
