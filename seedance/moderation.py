"""NSFW moderation: which finished runs are held, and staff decisions on them.

A held run's outputs are hidden from the portal and the API until a staff member approves;
a rejected run's files are deleted from our storage and never served again.
"""

from uuid import UUID

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from seedance.conf import setting
from seedance.models import ModerationDecision, OutputFile, Run
from seedance.signals import run_moderated
from seedance.states import Delivery, RunStatus

Moderation = Run.Moderation


def moderation_for(*, succeeded: bool, nsfw_detected: bool | None) -> str:
    """Flagged videos are held; unchecked ones (null) too when HOLD_UNCHECKED is on."""
    if not succeeded:
        return Moderation.NONE
    if nsfw_detected is True or (nsfw_detected is None and setting("HOLD_UNCHECKED")):
        return Moderation.PENDING
    return Moderation.NONE


def outputs_visible(run: Run) -> bool:
    return run.moderation in (Moderation.NONE, Moderation.APPROVED)


def rejected_runs_billed() -> bool:
    """Runflow charged us for a rejected video; whether the tenant pays is a setting."""
    return bool(setting("BILL_REJECTED"))


def run_billable(run: Run) -> bool | None:
    """Whether a run is billed: a succeeded run is once delivered, unless rejected while
    rejected runs are not billed; None while its copy or its review is still pending."""
    if run.status != RunStatus.SUCCEEDED or run.delivery == Delivery.UNAVAILABLE:
        return False
    if not rejected_runs_billed() and run.moderation == Moderation.REJECTED:
        return False
    if run.delivery == Delivery.PENDING:
        return None
    if rejected_runs_billed() or outputs_visible(run):
        return True
    return None


def run_approve(*, run_id: UUID | str, decided_by: User, reason: str = "") -> bool:
    return _decide(run_id, Moderation.APPROVED, decided_by, reason)


def run_reject(*, run_id: UUID | str, decided_by: User, reason: str = "") -> bool:
    """Reject and delete our copies of the video (after commit: a rollback keeps them)."""
    return _decide(run_id, Moderation.REJECTED, decided_by, reason)


def _decide(run_id: UUID | str, decision: str, decided_by: User, reason: str) -> bool:
    """Apply a decision to a run that is pending review; False if it is not."""
    with transaction.atomic():
        # Lock the run first, as a finishing copy does, so the two never interleave.
        run = (
            Run.objects.select_for_update().filter(pk=run_id, moderation=Moderation.PENDING).first()
        )
        if run is None:
            return False
        Run.objects.filter(pk=run.pk).update(moderation=decision)
        run.moderation = decision
        ModerationDecision.objects.create(
            run=run, decision=decision, reason=reason, decided_by=decided_by
        )
        if decision == Moderation.REJECTED:
            files = OutputFile.objects.filter(run=run, deleted_at__isnull=True)
            ids = list(files.values_list("pk", flat=True))
            files.update(deleted_at=timezone.now())
            transaction.on_commit(lambda: _delete_stored(ids))
        run_moderated.send(sender=Run, run=run, decision=decision)
    return True


def _delete_stored(file_ids: list[UUID]) -> None:
    """Re-read after commit: a copy that landed while we decided is deleted too."""
    for record in OutputFile.objects.filter(pk__in=file_ids):
        if record.file:
            record.file.delete(save=False)
        if record.poster:
            record.poster.delete(save=False)
