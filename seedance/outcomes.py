"""How a run ends, in our words: the ``Outcome`` the terminal transition writes.

Built from Runflow's answer (``Outcome.from_provider``) or by us (cancel, suspension,
deadline); the failure codes we give ourselves are named here, beside Runflow's own.
"""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from seedance.runflow.payloads import ProviderRun
from seedance.states import RunStatus

#: A failure Runflow gave no reason for; the reconciler asks again for one.
PROVIDER_FAILED = "provider_failed"
PROVIDER_CANCELED = "provider_canceled"
NO_OUTPUT = "no_output"
TENANT_SUSPENDED = "tenant_suspended"
DEADLINE_EXCEEDED = "deadline_exceeded"
#: Runflow refused every lookup of the run by client_ref up to its deadline.
LOOKUP_REFUSED = "lookup_refused"


@dataclass(frozen=True)
class Outcome:
    """What a run ended with; built from Runflow's answer or by us (cancel, deadline)."""

    status: str
    outputs: list[dict[str, Any]] = field(default_factory=list)
    result_seed: int | None = None
    nsfw_detected: bool | None = None
    timing: dict[str, Any] | None = None
    duration_ms: int | None = None
    cost: Decimal | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    failure_code: str = ""
    failure_message: str = ""
    #: The flag the finished run keeps: only when we end it while Runflow may still make it.
    attention: str = ""

    @classmethod
    def from_provider(cls, provider_run: ProviderRun) -> "Outcome":
        """Runflow's word, with two corrections: a "success" without a video is a failure
        (we bill what we deliver), and a failure always carries a code."""
        if provider_run.status == RunStatus.SUCCEEDED and not provider_run.outputs:
            return cls(
                status=RunStatus.FAILED,
                duration_ms=provider_run.duration_ms,
                cost=provider_run.cost,
                completed_at=provider_run.completed_at,
                failure_code=NO_OUTPUT,
                failure_message="Runflow reported success but returned no video.",
            )
        succeeded = provider_run.status == RunStatus.SUCCEEDED
        fallback = PROVIDER_FAILED if provider_run.status == RunStatus.FAILED else PROVIDER_CANCELED
        failure_code = "" if succeeded else provider_run.failure_code or fallback
        return cls(
            status=provider_run.status,
            outputs=[_output_entry(o) for o in provider_run.outputs] if succeeded else [],
            result_seed=provider_run.seed,
            nsfw_detected=provider_run.nsfw_detected,
            timing=provider_run.timing,
            duration_ms=provider_run.duration_ms,
            cost=provider_run.cost,
            started_at=provider_run.started_at,
            completed_at=provider_run.completed_at,
            failure_code=failure_code,
            failure_message=provider_run.failure_message if not succeeded else "",
        )


_OUTPUT_FIELDS = ("url", "type", "width", "height", "duration")


def _output_entry(raw: dict[str, Any]) -> dict[str, Any]:
    """Keep what we show and store of an artifact; the provider's extras stay upstream."""
    entry = {name: raw.get(name) for name in _OUTPUT_FIELDS}
    if "has_audio" in raw:
        entry["has_audio"] = raw["has_audio"]
    return entry
