"""A person deletes a video: our copy and its poster go, the run and its bill stay.

The run keeps its status, inputs and timing, and billing's rows for it are never touched:
the video was generated and delivered, so what was billed stays billed.
"""

from uuid import UUID

from django.db import transaction
from django.utils import timezone

from seedance.audit import Action, Actor, audit_record
from seedance.models import OutputFile, Run, ShareLink


def video_delete(*, run: Run, actor: Actor) -> int:
    """Delete the run's kept copies (and revoke their share links); returns how many.

    ``run`` comes from a read scoped to what the actor may see. Files leave storage after
    commit, re-read then, as a moderation rejection does.
    """
    now = timezone.now()
    with transaction.atomic():
        Run.objects.select_for_update().filter(pk=run.pk).first()  # as a landing copy does
        files = OutputFile.objects.filter(run=run, deleted_at__isnull=True)
        ids = list(files.values_list("pk", flat=True))
        if not ids:
            return 0
        files.update(deleted_at=now)
        ShareLink.objects.filter(output_file_id__in=ids, revoked_at__isnull=True).update(
            revoked_at=now
        )
        audit_record(
            action=Action.VIDEO_DELETED,
            actor=actor,
            tenant=run.tenant,
            target=f"run {run.pk}",
            details={"run_id": str(run.pk), "files": len(ids)},
        )
        transaction.on_commit(lambda: _delete_stored(ids))
    return len(ids)


def _delete_stored(file_ids: list[UUID]) -> None:
    for record in OutputFile.objects.filter(pk__in=file_ids):
        record.file.delete(save=False)
        record.poster.delete(save=False)
    OutputFile.objects.filter(pk__in=file_ids).update(file="", poster="")
