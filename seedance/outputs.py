"""Our own copy of every output, and the only URLs we hand out for it.

Runflow's output URLs are not ours to keep or to give away: after success each output is
copied into our storage (any Django storage backend), and readers get signed, expiring
links to a view that checks the run's moderation state, the file's retention and that the
tenant is not suspended.
"""

import logging
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
from django.core import signing
from django.core.files import File
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from seedance.conf import setting
from seedance.delivery import CopyFailed, OutputTooLarge, copy_failure, given_up
from seedance.exceptions import OutboundRefused
from seedance.log_context import bound_to_run
from seedance.models import OutputFile, Run, Tenant
from seedance.moderation import outputs_visible
from seedance.outbound import guarded_stream
from seedance.posters import poster_store
from seedance.public_status import shown
from seedance.states import Delivery, RunStatus
from seedance.transitions import (
    run_claim_delivery_attempt,
    run_mark_delivered,
    run_mark_undeliverable,
)

logger = logging.getLogger(__name__)

SIGNING_SALT = "seedance.output-file"
VIDEO_TYPES = ("video/mp4", "video/webm")
CHUNK_BYTES = 1024 * 1024


@dataclass(frozen=True)
class OutputLink:
    url: str | None
    type: str
    width: int | None
    height: int | None
    duration: float | None
    expires_at: datetime | None


@bound_to_run
def outputs_copy(run_id: UUID | str, *, now: datetime | None = None) -> int:
    """One copy attempt of a succeeded run's outputs, and the run's delivery it decides
    (``seedance.delivery`` has the retry rule); idempotent. Returns files copied now."""
    now = now or timezone.now()
    run = Run.objects.select_related("tenant").filter(pk=run_id).first()
    if run is None or run.status != RunStatus.SUCCEEDED or run.delivery != Delivery.PENDING:
        return 0
    if run.moderation == Run.Moderation.REJECTED:
        run_mark_undeliverable(run.pk, reason="rejected in review before it was copied")
        return 0
    if reason := given_up(run, now):
        run_mark_undeliverable(run.pk, reason=reason)
        return 0
    attempt = run_claim_delivery_attempt(run.pk, now=now)
    if attempt is None:
        return 0
    copied = 0
    try:
        for index, entry in enumerate(run.outputs):
            copied += _copy_output(run, index, entry)
    except CopyFailed as failure:
        run.delivery_attempts = attempt
        _after_failure(run, failure, now)
        return copied
    run_mark_delivered(run.pk)
    logger.info("Run %s delivered: %d output(s) copied now", run.pk, copied)
    return copied


def _copy_output(run: Run, index: int, entry: dict[str, Any]) -> int:
    record, _ = OutputFile.objects.get_or_create(
        run=run,
        index=index,
        defaults={
            "content_type": safe_video_type(entry.get("type")),
            "width": entry.get("width"),
            "height": entry.get("height"),
            "duration": entry.get("duration"),
        },
    )
    if record.copied_at is not None or record.deleted_at is not None:
        return 0
    url = str(entry.get("url") or "")
    try:
        return _copy_one(run, record, url)
    except OutboundRefused as exc:
        # The same URL is refused the same way next time, a redirect included.
        raise CopyFailed(f"output {index}: no URL we may fetch: {exc}", permanent=True) from exc
    except httpx.HTTPError as exc:
        raise copy_failure(exc, index) from exc


def _after_failure(run: Run, failure: CopyFailed, now: datetime) -> None:
    """A permanent failure, or the last allowed attempt, ends delivery; else wait."""
    reason = str(failure) if failure.permanent else given_up(run, now)
    if reason and not failure.permanent:
        reason = f"{reason}; the last: {failure}"
    if reason:
        logger.error("Outputs of run %s are unavailable: %s", run.pk, reason)
        run_mark_undeliverable(run.pk, reason=reason)
    else:
        logger.warning(
            "Copy attempt %s of run %s failed: %s", run.delivery_attempts, run.pk, failure
        )


def safe_video_type(declared: Any) -> str:
    """We serve copies from our own origin: only a video type the provider declared is
    kept, anything else (text/html, say) becomes video/mp4 and is never rendered."""
    return declared if declared in VIDEO_TYPES else "video/mp4"


def _copy_one(run: Run, record: OutputFile, url: str) -> int:
    limit = int(setting("OUTPUT_MAX_BYTES"))
    with tempfile.NamedTemporaryFile() as buffer:
        size = 0
        timeout = float(setting("OUTPUT_COPY_TIMEOUT_SECONDS"))
        with guarded_stream("GET", url, timeout=timeout) as response:
            response.raise_for_status()
            for chunk in response.iter_bytes(CHUNK_BYTES):
                size += len(chunk)
                if size > limit:
                    raise OutputTooLarge(f"output {record.index}: over {limit} bytes")
                buffer.write(chunk)
        buffer.seek(0)
        name = record.file.field.generate_filename(record, f"{run.pk}-{record.index}.mp4")
        stored = record.file.storage.save(name, File(buffer))
        buffer.flush()
        poster = poster_store(record, Path(buffer.name))
    now = timezone.now()
    retention = run.tenant.output_retention_days
    with transaction.atomic():
        # The run's row first, as a moderation decision takes it: a rejection either
        # commits before this (we see it) or waits and deletes what we stored. A copy
        # landing after delivery was given up is discarded: it is never shown or billed.
        still_wanted = (
            Run.objects.select_for_update()
            .filter(pk=run.pk, delivery=Delivery.PENDING)
            .exclude(moderation=Run.Moderation.REJECTED)
            .values_list("pk", flat=True)
            .first()
        ) is not None
        won = still_wanted and OutputFile.objects.filter(
            pk=record.pk, copied_at__isnull=True, deleted_at__isnull=True
        ).update(
            file=stored,
            poster=poster,
            size=size,
            copied_at=now,
            expires_at=now + timedelta(days=retention) if retention else None,
        )
    if not won:
        record.file.storage.delete(stored)  # a concurrent copy won, or rejected, or given up
        if poster:
            record.poster.storage.delete(poster)
        return 0
    return 1


def outputs_apply_retention(tenant: Tenant) -> int:
    """Re-date every kept copy of the tenant's after its retention changed; the hourly
    purge then deletes what is now past its date."""
    days = tenant.output_retention_days
    kept = OutputFile.objects.for_tenant(tenant).filter(
        copied_at__isnull=False, deleted_at__isnull=True
    )
    if days is None:
        return kept.update(expires_at=None)
    return kept.update(expires_at=F("copied_at") + timedelta(days=days))


def outputs_purge_expired(*, now: datetime | None = None) -> int:
    """Delete files past their tenant's retention; their links answer 404 from then on."""
    now = now or timezone.now()
    expired = list(
        OutputFile.objects.filter(expires_at__lt=now, deleted_at__isnull=True).exclude(file="")
    )
    for record in expired:
        record.file.delete(save=False)
        record.poster.delete(save=False)
    OutputFile.objects.filter(pk__in=[r.pk for r in expired]).update(deleted_at=now)
    return len(expired)


def output_links(run: Run, files: list[OutputFile] | None = None) -> list[OutputLink]:
    """What a reader may fetch: nothing while held or after rejection; a signed link per
    kept copy (none for one past its retention that the purge has not reached yet).
    Readers show them only once the run is delivered (``seedance.public_status``)."""
    if run.status != RunStatus.SUCCEEDED or not outputs_visible(run):
        return []
    files = files if files is not None else list(run.files.all())
    now = timezone.now()
    return [
        OutputLink(
            url=signed_url(record) if servable(record, now) else None,
            type=record.content_type,
            width=record.width,
            height=record.height,
            duration=record.duration,
            expires_at=record.expires_at,
        )
        for record in files
        if record.deleted_at is None
    ]


def signed_url(record: OutputFile) -> str:
    return reverse("seedance:output-file", kwargs={"token": _signed_token(record)})


def poster_url(record: OutputFile) -> str | None:
    """The poster behind the same token as the video, so it is granted and withdrawn with it."""
    if not record.poster:
        return None
    return reverse("seedance:output-poster", kwargs={"token": _signed_token(record)})


def poster_urls(runs: Iterable[Run]) -> dict[UUID, str]:
    """The poster of each run's first video a reader may see now, by run id; one query."""
    visible = [run.pk for run in runs if shown(run) == RunStatus.SUCCEEDED and outputs_visible(run)]
    if not visible:
        return {}
    now = timezone.now()
    files = OutputFile.objects.filter(run_id__in=visible, index=0).exclude(poster="")
    urls = {record.run_id: poster_url(record) for record in files if servable(record, now)}
    return {run_id: url for run_id, url in urls.items() if url}


def _signed_token(record: OutputFile) -> str:
    return signing.dumps(str(record.pk), salt=SIGNING_SALT)


def file_for_token(token: str) -> OutputFile | None:
    """The file a token grants, if the token is ours and fresh, and the file may be served."""
    try:
        file_id = signing.loads(
            token, salt=SIGNING_SALT, max_age=int(setting("OUTPUT_URL_TTL_SECONDS"))
        )
    except signing.BadSignature:
        return None
    record = OutputFile.objects.select_related("run__tenant").filter(pk=file_id).first()
    if record is None or not outputs_visible(record.run) or not servable(record, timezone.now()):
        return None
    if record.run.tenant.is_suspended:
        return None  # answered like a file no longer available; works again on resume
    return record


def servable(record: OutputFile, now: datetime) -> bool:
    """Our copy exists and is within its retention."""
    return (
        record.copied_at is not None
        and record.deleted_at is None
        and bool(record.file)
        and (record.expires_at is None or record.expires_at > now)
    )
