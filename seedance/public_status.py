"""What a tenant is shown of a run's status: one expression, used by every read.

Our status says what Runflow did; the tenant's says what they can have. A succeeded run
is `succeeded` only once its outputs are delivered (our copy can be fetched): until then
it is `running`, and if the copy failed for good it is `failed` (``output_unavailable``),
its own status untouched. A video withheld by moderation (held or rejected) shows
`succeeded` with no output, as the moderation field explains.
"""

from typing import Any

from django.db.models import Case, CharField, Count, F, Q, QuerySet, TextField, Value, When

from seedance.models import Run
from seedance.states import Delivery, RunStatus

OUTPUT_UNAVAILABLE = "output_unavailable"
OUTPUT_UNAVAILABLE_MESSAGE = (
    "The video was generated, but we could not copy it into our storage, so it cannot be "
    "delivered. The run is not billed."
)
FIELDS = ("public_status", "public_failure_code", "public_failure_message")

_SUCCEEDED = Q(status=RunStatus.SUCCEEDED)
_WITHHELD = _SUCCEEDED & Q(moderation__in=[Run.Moderation.PENDING, Run.Moderation.REJECTED])
_UNAVAILABLE = _SUCCEEDED & ~_WITHHELD & Q(delivery=Delivery.UNAVAILABLE)


def public_status() -> Case:
    return Case(
        When(_WITHHELD, then=Value(RunStatus.SUCCEEDED)),
        When(_SUCCEEDED & Q(delivery=Delivery.DELIVERED), then=Value(RunStatus.SUCCEEDED)),
        When(_UNAVAILABLE, then=Value(RunStatus.FAILED)),
        When(_SUCCEEDED, then=Value(RunStatus.RUNNING)),
        default=F("status"),
        output_field=CharField(),
    )


def with_public_status(runs: "QuerySet[Run]") -> "QuerySet[Run]":
    """``runs`` annotated with what the tenant is shown: status, failure code and message."""
    return runs.annotate(
        public_status=public_status(),
        public_failure_code=Case(
            When(_UNAVAILABLE, then=Value(OUTPUT_UNAVAILABLE)),
            default=F("failure_code"),
            output_field=CharField(),
        ),
        public_failure_message=Case(
            When(_UNAVAILABLE, then=Value(OUTPUT_UNAVAILABLE_MESSAGE)),
            default=F("failure_message"),
            output_field=TextField(),
        ),
    )


def with_public_status_as_inserted(run: Run) -> Run:
    """A run this request has just inserted, shown without reading it back: every case of
    the rule above needs a succeeded run, so a queued one shows its own fields. Anything
    else must be read through ``with_public_status``."""
    if run.status != RunStatus.QUEUED:
        raise ValueError(f"run {run.pk} is not as inserted: read it with with_public_status()")
    run.public_status = run.status  # type: ignore[attr-defined]
    run.public_failure_code = run.failure_code  # type: ignore[attr-defined]
    run.public_failure_message = run.failure_message  # type: ignore[attr-defined]
    return run


def public_status_counts(runs: "QuerySet[Run]") -> dict[str, int]:
    """How many of ``runs`` the tenant sees in each status (every status present, 0s too)."""
    rows = runs.order_by().values(shown_status=public_status()).annotate(runs=Count("pk"))
    counts = dict.fromkeys(RunStatus.values, 0)
    counts.update({str(row["shown_status"]): int(row["runs"]) for row in rows})
    return counts


def shown(run: Run, field: str = "public_status") -> Any:
    """A run's shown status (or failure field); the run must come from a read that used
    ``with_public_status``, so no page works the rule out on its own."""
    if field not in FIELDS:
        raise ValueError(f"{field!r} is not a shown field")
    try:
        return getattr(run, field)
    except AttributeError:
        raise LookupError(f"run {run.pk} was not read through with_public_status()") from None
