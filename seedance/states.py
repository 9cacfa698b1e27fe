"""The run's one state machine: its statuses and the moves between them."""

from django.db import models


class RunStatus(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"

    @classmethod
    def terminal(cls) -> tuple[str, ...]:
        return (cls.SUCCEEDED, cls.FAILED, cls.CANCELED)

    @classmethod
    def in_progress(cls) -> tuple[str, ...]:
        return (cls.QUEUED, cls.RUNNING)


class Delivery(models.TextChoices):
    """Whether a succeeded run's outputs reached our storage: tenants see `succeeded` (and
    it is billed) only once delivered; unavailable when the copy failed for good."""

    PENDING = "pending", "Being copied"
    DELIVERED = "delivered", "Delivered"
    UNAVAILABLE = "unavailable", "Unavailable: the copy failed for good"


class Attention(models.TextChoices):
    """Why a run needs a person: set by the reconciler, kept on a run we failed ourselves
    while Runflow might still make it (its later success is a paid-not-billed discrepancy)."""

    NONE = "", "None"
    OVERDUE = "overdue", "Overdue: past its deadline, Runflow still in progress or unanswering"
    LOOKUP_REFUSED = "lookup_refused", "Lookup refused: Runflow refused the client_ref lookup"


#: Every legal move. Terminal statuses have none: a finished run never changes again.
TRANSITIONS: dict[str, frozenset[str]] = {
    RunStatus.QUEUED: frozenset(
        {RunStatus.RUNNING, RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELED}
    ),
    RunStatus.RUNNING: frozenset({RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELED}),
    RunStatus.SUCCEEDED: frozenset(),
    RunStatus.FAILED: frozenset(),
    RunStatus.CANCELED: frozenset(),
}


def sources_of(target: str) -> tuple[str, ...]:
    """The statuses a run may be in for a move to ``target`` to be legal."""
    return tuple(source for source, targets in TRANSITIONS.items() if target in targets)
