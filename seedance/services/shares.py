"""Share links: one video shown without sign-in, for a while, until revoked.

A link's token is given out once and stored as a SHA-256 digest (as API keys are). Every
use re-checks everything that would stop the video being served in the portal: the link's
expiry and revocation, the run's moderation, the copy's retention and deletion, and the
tenant's standing; any of them answers like a link that never existed.
"""

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from seedance.audit import Action, Actor, audit_record
from seedance.models import OutputFile, Run, ShareLink
from seedance.moderation import outputs_visible
from seedance.outputs import servable
from seedance.services.keys import digest_of
from seedance.states import RunStatus

#: How long a new link may last, in days: the choices the owner picks from.
SHARE_DAYS = (1, 7, 30)
TOKEN_BYTES = 32


class NothingToShare(Exception):
    """The run has no video that may be shown now (held, rejected, deleted or expired)."""


@dataclass(frozen=True)
class IssuedShareLink:
    link: ShareLink
    #: Shown to the owner once, never stored.
    token: str


def shareable_file(run: Run) -> OutputFile | None:
    """The run's first video, if it may be shown now."""
    if run.status != RunStatus.SUCCEEDED or not outputs_visible(run):
        return None
    record = OutputFile.objects.filter(run=run, index=0).first()
    if record is None or not servable(record, timezone.now()):
        return None
    return record


def share_link_create(*, run: Run, days: int, actor: Actor) -> IssuedShareLink:
    """A link to the run's video for ``days`` (one of ``SHARE_DAYS``), never past the
    video's retention. ``run`` comes from a read scoped to what the actor may see."""
    if days not in SHARE_DAYS:
        raise ValueError(f"{days} is not one of {SHARE_DAYS}")
    record = shareable_file(run)
    if record is None:
        raise NothingToShare("This run has no video that can be shared now.")
    now = timezone.now()
    expires_at = now + timedelta(days=days)
    if record.expires_at is not None:
        expires_at = min(expires_at, record.expires_at)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    with transaction.atomic():
        link = ShareLink.objects.create(
            output_file=record,
            token_digest=digest_of(token),
            created_by=actor.user,
            expires_at=expires_at,
        )
        audit_record(
            action=Action.SHARE_LINK_CREATED,
            actor=actor,
            tenant=run.tenant,
            target=f"share link {link.pk} of run {run.pk}",
            details={"run_id": str(run.pk), "expires_at": expires_at.isoformat()},
        )
    return IssuedShareLink(link=link, token=token)


def share_link_revoke(*, run: Run, link_id: int, actor: Actor) -> ShareLink:
    """Revoke one of the run's links (another run's id is DoesNotExist); revoking twice
    keeps the first date and writes no second entry."""
    with transaction.atomic():
        link = (
            ShareLink.objects.for_tenant(run.tenant)
            .select_for_update()
            .get(pk=link_id, output_file__run=run)
        )
        if link.revoked_at is None:
            link.revoked_at = timezone.now()
            link.save(update_fields=["revoked_at"])
            audit_record(
                action=Action.SHARE_LINK_REVOKED,
                actor=actor,
                tenant=run.tenant,
                target=f"share link {link.pk} of run {run.pk}",
                details={"run_id": str(run.pk)},
            )
    return link


def share_links_of(run: Run) -> list[ShareLink]:
    return list(ShareLink.objects.for_tenant(run.tenant).filter(output_file__run=run))


def share_link_active(link: ShareLink, now: datetime) -> bool:
    return link.revoked_at is None and link.expires_at > now


def shared_file(token: str) -> OutputFile | None:
    """The video a share token shows now, or None for any reason at all."""
    if not token or len(token) > 128:
        return None
    digest = digest_of(token)
    link = (
        ShareLink.objects.select_related("output_file__run__tenant")
        .filter(token_digest=digest)
        .first()
    )
    if link is None or not hmac.compare_digest(link.token_digest, digest):
        return None
    now = timezone.now()
    record = link.output_file
    run = record.run
    if not share_link_active(link, now) or run.tenant.is_suspended:
        return None
    if run.status != RunStatus.SUCCEEDED or not outputs_visible(run):
        return None
    return record if servable(record, now) else None
