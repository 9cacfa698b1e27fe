"""Creating and canceling runs on a tenant's behalf."""

import hashlib
import json
import logging
from datetime import datetime, timedelta
from functools import partial
from typing import Any
from uuid import UUID

from django.contrib.auth.models import User
from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string

from seedance import queue
from seedance.conf import setting
from seedance.exceptions import (
    IdempotencyKeyInFlight,
    IdempotencyKeyReused,
    RunNotCancelable,
    TenantSuspended,
)
from seedance.log_context import bind_run
from seedance.models import IdempotencyKey, Run, Tenant
from seedance.outcomes import Outcome
from seedance.run_input import RunInput
from seedance.states import RunStatus
from seedance.transitions import run_finish

logger = logging.getLogger(__name__)


def run_create(
    *,
    tenant: Tenant,
    run_input: RunInput,
    idempotency_key: str | None = None,
    created_by: User | None = None,
) -> tuple[Run, bool]:
    """Insert a queued run and submit it once committed. Returns (run, created).

    Admission hooks (billing's caps) see the inserted run inside this transaction: one that
    raises refuses the run, and nothing of it is written.

    With an Idempotency-Key, the key row commits with the run, so a crash leaves neither;
    a repeat of the same body gets the first run back, another body is refused.

    A repeat arriving while the first is in flight waits for it (PostgreSQL's advisory
    lock), so it answers the first run, or 422 for another body, not a 409.

    A suspended tenant makes no runs (its keys and portal refuse before this; a run made in
    a suspension's race is canceled at submission, never sent).
    """
    if tenant.is_suspended:
        raise TenantSuspended("This tenant is suspended: it cannot create runs.")
    digest = _request_digest(run_input)
    try:
        return _run_insert(tenant, run_input, idempotency_key, digest, created_by)
    except _KeyTakenMeanwhile:
        # Another request inserted this key between our look-up and our insert (only
        # where the key lock is not taken): its run is committed now, answer it.
        assert idempotency_key is not None
        with transaction.atomic():
            previous = _previous_run(tenant, idempotency_key, digest)
        if previous is None:
            raise IdempotencyKeyInFlight(_IN_FLIGHT) from None
        return previous, False


class _KeyTakenMeanwhile(Exception):
    """The key's row appeared after our look-up; the run we inserted is rolled back."""


def _run_insert(
    tenant: Tenant,
    run_input: RunInput,
    idempotency_key: str | None,
    digest: str,
    created_by: User | None,
) -> tuple[Run, bool]:
    with transaction.atomic():
        if idempotency_key:
            previous = _previous_run(tenant, idempotency_key, digest)
            if previous is not None:
                return previous, False
        run = Run.objects.create(
            tenant=tenant,
            created_by=created_by,
            deadline_at=timezone.now() + timedelta(seconds=int(setting("RUN_DEADLINE_SECONDS"))),
            **run_input.as_dict(),
        )
        for hook in setting("ADMISSION_HOOKS"):
            import_string(hook)(run=run)
        if idempotency_key:
            try:
                with transaction.atomic():
                    IdempotencyKey.objects.create(
                        tenant=tenant, key=idempotency_key, request_digest=digest, run=run
                    )
            except IntegrityError as exc:
                raise _KeyTakenMeanwhile from exc
        # robust: a broker hiccup must not turn a committed run into a 500 (and a retry
        # into a second run); the reconciler submits a run whose task never arrived.
        transaction.on_commit(partial(queue.enqueue_submit, run.id), robust=True)
    bind_run(run.pk)
    logger.info("Run %s queued (%s, %ss)", run.pk, run.resolution, run.duration)
    return run, True


#: Cancel works only before a submit task claims the run: the provider has no cancel.
CANCELABLE = Q(status=RunStatus.QUEUED, claimed_at__isnull=True, provider_run_id__isnull=True)
NOT_CANCELABLE_MESSAGE = (
    "The run was already submitted for generation and can't be stopped now: "
    "it will finish, and is billed only if it succeeds."
)


def run_cancelable(run: Run) -> bool:
    """Whether ``run_cancel`` can still work, by the same rule as its conditional update."""
    return run.status == RunStatus.QUEUED and run.claimed_at is None and run.provider_run_id is None


def run_cancel(*, tenant: Tenant, run_id: UUID | str) -> Run:
    """Cancel a run no submit task has claimed yet: nothing was sent, nothing is billed."""
    run = Run.objects.for_tenant(tenant).get(pk=run_id)
    if run.status == RunStatus.CANCELED:
        return run
    if run.is_terminal:
        raise RunNotCancelable(f"The run already {run.status}.")
    finished = run_finish(
        run.pk,
        Outcome(
            status=RunStatus.CANCELED,
            failure_code="canceled",
            failure_message="Canceled by the tenant before submission.",
        ),
        only_if=CANCELABLE,
    )
    if finished is None:
        raise RunNotCancelable(NOT_CANCELABLE_MESSAGE)
    return finished


def idempotency_keys_purge(*, now: datetime) -> int:
    """Forget keys past their 24 h: a repeat after that makes a new run, as documented."""
    ttl_start = now - timedelta(seconds=int(setting("IDEMPOTENCY_TTL_SECONDS")))
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=ttl_start).delete()
    return deleted


_IN_FLIGHT = "A request with this Idempotency-Key is still being handled; retry shortly."


def _previous_run(tenant: Tenant, key: str, digest: str) -> Run | None:
    _lock_key_or_refuse(tenant, key)
    ttl_start = timezone.now() - timedelta(seconds=int(setting("IDEMPOTENCY_TTL_SECONDS")))
    keys = IdempotencyKey.objects.for_tenant(tenant).filter(key=key)
    keys.filter(created_at__lt=ttl_start).delete()
    previous = keys.select_related("run").first()
    if previous is None:
        return None
    if previous.request_digest != digest:
        raise IdempotencyKeyReused(
            "This Idempotency-Key was already used with a different request body."
        )
    return previous.run


def _lock_key_or_refuse(tenant: Tenant, key: str) -> None:
    """On PostgreSQL, a repeat waits for the request holding its key, then replays it.

    The wait is bounded (``IDEMPOTENCY_WAIT_SECONDS``): a first request still running after
    that is refused with 409, and the repeat may be retried. SQLite's IMMEDIATE
    transactions already serialize writers, so there the repeat simply waits its turn.
    """
    if connection.vendor != "postgresql":
        return
    lock_id = int.from_bytes(
        hashlib.sha256(f"idem:{tenant.pk}:{key}".encode()).digest()[:8], "big", signed=True
    )
    wait_ms = max(1, int(float(setting("IDEMPOTENCY_WAIT_SECONDS")) * 1000))
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('lock_timeout')")
        (prior,) = cursor.fetchone() or ("0",)
        cursor.execute("SELECT set_config('lock_timeout', %s, true)", [f"{wait_ms}ms"])
        try:
            with transaction.atomic():
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [lock_id])
        except OperationalError as exc:
            raise IdempotencyKeyInFlight(_IN_FLIGHT) from exc
        finally:
            cursor.execute("SELECT set_config('lock_timeout', %s, true)", [prior])


def _request_digest(run_input: RunInput) -> str:
    canonical: dict[str, Any] = run_input.as_dict()
    encoded = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(encoded.encode()).hexdigest()
