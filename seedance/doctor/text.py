"""The doctor's report as text for a person: sections, then each finding and what to do."""

import textwrap

from seedance.doctor.findings import Report, Severity

MARKS = {Severity.OK: "ok     ", Severity.WARNING: "WARNING", Severity.PROBLEM: "PROBLEM"}
INDENT = " " * 10
WIDTH = 100


def _wrapped(text: str, first: str) -> list[str]:
    """Wrapped under the finding's line; links and ids are never broken."""
    return textwrap.wrap(
        text,
        width=WIDTH,
        initial_indent=INDENT + first,
        subsequent_indent=INDENT + " " * len(first),
        break_long_words=False,
        break_on_hyphens=False,
    )


def report_text(report: Report) -> str:
    lines = [f"runs_doctor at {report.checked_at:%Y-%m-%d %H:%M:%S} UTC"]
    for section in report.sections:
        lines += ["", f"== {section.title} ({section.severity.label})"]
        for finding in section.findings:
            lines.append(f"  {MARKS[finding.severity]} {finding.what}")
            if finding.items:
                more = (finding.count or 0) - len(finding.items)
                listed = ", ".join(finding.items) + (f" and {more} more" if more > 0 else "")
                lines += _wrapped(listed, "")
            if finding.todo and finding.severity is not Severity.OK:
                lines += _wrapped(finding.todo, "→ ")
    problems = sum(f.severity is Severity.PROBLEM for s in report.sections for f in s.findings)
    warnings = sum(f.severity is Severity.WARNING for s in report.sections for f in s.findings)
    lines += ["", f"{problems} problem(s), {warnings} warning(s)."]
    return "\n".join(lines)
