"""Reading a doctor's section: the finding with a code, and the codes that are not ok."""

from seedance.doctor.findings import Finding, Section, Severity


def finding(section: Section, code: str) -> Finding:
    matches = [f for f in section.findings if f.code == code]
    assert len(matches) == 1, [f.code for f in section.findings]
    return matches[0]


def trouble(section: Section) -> dict[str, Severity]:
    """Every finding that is not ok, by code: a clean database gives none."""
    return {f.code: f.severity for f in section.findings if f.severity is not Severity.OK}
