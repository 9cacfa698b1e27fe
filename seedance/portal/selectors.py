"""The portal's reads, always scoped through ``Run.objects.for_tenant`` and the role, with
the status the tenant is shown (``seedance.public_status``), as the API shows it."""

from collections import defaultdict
from datetime import timedelta
from functools import reduce
from operator import or_
from statistics import median

from django.contrib.auth.models import User
from django.db.models import F, Q, QuerySet, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from seedance.models import INVITATION_OPEN, Invitation, Membership, Run, Tenant
from seedance.public_status import public_status_counts, with_public_status
from seedance.selectors import verified_emails_of
from seedance.services.keys import digest_of
from seedance.states import RunStatus

ETA_SAMPLE_SIZE = 20
HELD = "held"
#: The status filters of the runs list; "held" is a succeeded run waiting for review.
LIST_FILTERS = (*RunStatus.values, HELD)
_HELD = Q(public_status=RunStatus.SUCCEEDED, moderation=Run.Moderation.PENDING)


def invitations_pending_for(*, user: User) -> list[Invitation]:
    """Open, unexpired invitations to the addresses the person has verified."""
    emails = verified_emails_of(user=user)
    if not emails:
        return []
    return list(
        Invitation.objects.filter(INVITATION_OPEN, email__in=emails, expires_at__gt=timezone.now())
        .exclude(tenant__memberships__user=user)
        .select_related("tenant", "invited_by")
        .order_by("-created_at")
    )


def invitation_by_token(*, token: str) -> Invitation | None:
    if not token or len(token) > 128:
        return None
    return (
        Invitation.objects.select_related("tenant", "invited_by")
        .filter(token_digest=digest_of(token))
        .first()
    )


def invitations_open(*, tenant: Tenant) -> "QuerySet[Invitation]":
    """The tenant's unanswered invitations, expired ones included (re-inviting closes them)."""
    return (
        Invitation.objects.for_tenant(tenant)
        .filter(INVITATION_OPEN)
        .select_related("invited_by")
        .order_by("-created_at")
    )


def runs_visible_to(membership: Membership) -> "QuerySet[Run]":
    """A member sees the runs they made; a tenant admin sees every run of the tenant."""
    return with_public_status(_scoped(membership))


def _scoped(membership: Membership) -> "QuerySet[Run]":
    runs = Run.objects.for_tenant(membership.tenant)
    if membership.role != Membership.Role.ADMIN:
        runs = runs.filter(created_by_id=membership.user_id)
    return runs


def run_list_for(membership: Membership, *, status: str = "") -> "QuerySet[Run]":
    """The runs list: one query for any number of rows (the creator joined in)."""
    runs = runs_visible_to(membership).select_related("created_by")
    if status == HELD:
        runs = runs.filter(_HELD)
    elif status in RunStatus.values:
        runs = runs.filter(Q(public_status=status))
    return runs.order_by("-created_at", "-id")


def run_counts_for(membership: Membership) -> dict[str, int]:
    """How many runs each filter of the runs list shows, by the same expression."""
    counts = public_status_counts(_scoped(membership))
    counts[HELD] = runs_visible_to(membership).filter(_HELD).count()
    return counts


def run_eta(run: Run) -> tuple[timedelta, int] | None:
    """The median time to finish of the tenant's recent succeeded runs with the same
    duration and resolution, and how many runs it comes from; None without any."""
    return eta_for(run.tenant, duration=run.duration, resolution=run.resolution)


def etas_for(tenant: Tenant, runs: list[Run]) -> dict[tuple[str, str], timedelta]:
    """The typical time of each (duration, resolution) among ``runs``: one query however
    many kinds of run the page holds (each kind's latest ``ETA_SAMPLE_SIZE`` ranked in it)."""
    kinds = {(run.duration, run.resolution) for run in runs}
    if not kinds:
        return {}
    of_a_kind = reduce(or_, (Q(duration=duration, resolution=res) for duration, res in kinds))
    latest_first = Window(
        RowNumber(),
        partition_by=[F("duration"), F("resolution")],
        order_by=[F("completed_at").desc(), F("id").desc()],
    )
    recent = (
        _finished_in(tenant)
        .filter(of_a_kind)
        .annotate(rank=latest_first)
        .filter(rank__lte=ETA_SAMPLE_SIZE)
        .values_list("duration", "resolution", "created_at", "completed_at")
    )
    took: dict[tuple[str, str], list[float]] = defaultdict(list)
    for duration, resolution, created, completed in recent:
        if created is not None and completed is not None:
            took[(duration, resolution)].append((completed - created).total_seconds())
    return {kind: timedelta(seconds=median(seconds)) for kind, seconds in took.items()}


def _finished_in(tenant: Tenant) -> "QuerySet[Run]":
    return Run.objects.for_tenant(tenant).filter(
        status=RunStatus.SUCCEEDED, completed_at__isnull=False
    )


def eta_for(tenant: Tenant, *, duration: str, resolution: str) -> tuple[timedelta, int] | None:
    recent = (
        _finished_in(tenant)
        .filter(duration=duration, resolution=resolution)
        .order_by("-completed_at", "-id")
        .values_list("created_at", "completed_at")[:ETA_SAMPLE_SIZE]
    )
    took = [
        (completed - created).total_seconds()
        for created, completed in recent
        if created is not None and completed is not None
    ]
    if not took:
        return None
    return timedelta(seconds=median(took)), len(took)
