"""The callback a run made on the compatible surface owes its ``callback_url``: recorded
once, in the transaction that makes the run final in Runflow's mapping
(``seedance.compat.shapes``), then sent the way Runflow sends it, through the outbound
guard and on the retry schedule of our webhooks.

What is sent is Runflow's payload (``event``, ``run_id``, ``status``, ``output``,
``duration_ms``, ``created_at``, ``completed_at``, ``metadata``; plus ``client_ref`` and
``error``), built at each attempt so its links are fresh, with ``Runflow-Request-Id``
(the same on every attempt) and, when the tenant has a callback secret,
``Runflow-Signature``: the hex HMAC-SHA256 of the raw body keyed with the whole secret.
Like Runflow's, nothing but the body is signed: replay protection is the receiver's.
"""

import json
import logging
import time
import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from seedance.charges import charges_of
from seedance.compat.callback_secrets import callback_signing_secret
from seedance.compat.shapes import run_object, runflow_runs
from seedance.conf import setting
from seedance.exceptions import OutboundRefused
from seedance.models import CallbackDelivery, Run
from seedance.outbound import guarded_stream
from seedance.runflow.signing import REQUEST_ID_HEADER, SIGNATURE_HEADER, sign
from seedance.states import Delivery, RunStatus
from seedance.webhooks.delivery import (
    ERROR_CHARS,
    SEND_MARGIN_SECONDS,
    Answer,
    capped_body,
    elapsed_ms,
)
from seedance.webhooks.payloads import PublicBaseRequest
from seedance.webhooks.retries import next_retry_at, retry_after_seconds

logger = logging.getLogger(__name__)

PENDING = CallbackDelivery.State.PENDING
BATCH_SIZE = 200
USER_AGENT = "Seedance-Runflow-Callbacks/1"
#: The model page's spellings: ``status_code`` says canceled, a callback says cancelled.
EVENTS = {
    RunStatus.SUCCEEDED: ("run.completed", "succeeded"),
    RunStatus.FAILED: ("run.failed", "failed"),
    RunStatus.CANCELED: ("run.cancelled", "cancelled"),
}
Moderation = Run.Moderation


def callback_record(run: Run) -> None:
    """Owe ``run``'s callback, once however often a final state is reported."""
    if not run.callback_url:
        return
    CallbackDelivery.objects.bulk_create(
        [
            CallbackDelivery(
                run=run,
                tenant_id=run.tenant_id,
                url=run.callback_url,
                request_id=f"req_{uuid.uuid4().hex}",
                next_attempt_at=timezone.now(),
            )
        ],
        ignore_conflicts=True,
    )


def on_run_finished(sender: Any, run: Run, **kwargs: Any) -> None:
    """Failed and canceled are final at once; a success waits for its copy or its review."""
    if run.status in (RunStatus.FAILED, RunStatus.CANCELED):
        callback_record(run)


def on_run_delivery_settled(sender: Any, run: Run, **kwargs: Any) -> None:
    """Copied (succeeded) or not copyable (failed): final, unless a review still holds it."""
    if run.moderation in (Moderation.NONE, Moderation.APPROVED):
        callback_record(run)


def on_run_moderated(sender: Any, run: Run, decision: str, **kwargs: Any) -> None:
    """A rejection is final (failed, ``CONTENT_REJECTED``); an approval is once copied."""
    if decision == Moderation.REJECTED or run.delivery != Delivery.PENDING:
        callback_record(run)


def callbacks_claim_due(now: datetime) -> list[tuple[int, datetime]]:
    """Claim due callbacks by moving each one's booking on: the lease its task must hold."""
    due = (
        CallbackDelivery.objects.filter(state=PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("pk", "next_attempt_at")[:BATCH_SIZE]
    )
    lease = now + timedelta(seconds=float(setting("WEBHOOK_LEASE_SECONDS")))
    claimed = []
    for callback_id, booked in due:
        moved = CallbackDelivery.objects.filter(
            pk=callback_id, state=PENDING, next_attempt_at=booked
        ).update(next_attempt_at=lease)
        if moved == 1:
            claimed.append((callback_id, lease))
    return claimed


def callback_attempt(callback_id: int, lease: datetime, *, now: datetime | None = None) -> str:
    """One attempt of a callback the dispatcher leased; what became of it, in a word."""
    now = now or timezone.now()
    held = CallbackDelivery.objects.filter(pk=callback_id, state=PENDING, next_attempt_at=lease)
    callback = held.select_related("tenant").first()
    if callback is None:
        return "skipped"
    if callback.tenant.is_suspended:
        held.update(next_attempt_at=now)  # paused, not dropped, as webhooks are
        return "skipped"
    number = callback.attempts + 1
    send_lease = float(setting("WEBHOOK_TIMEOUT_SECONDS")) + SEND_MARGIN_SECONDS
    if (
        held.filter(attempts=callback.attempts).update(
            attempts=number, next_attempt_at=now + timedelta(seconds=send_lease)
        )
        != 1
    ):
        return "skipped"
    return _attempt_finish(callback, number, _send(callback, now), now)


def callback_body(callback: CallbackDelivery) -> str:
    """The JSON text that is signed and sent: the run as Runflow's callback reports it."""
    run = runflow_runs(tenant=callback.tenant).get(pk=callback.run_id)
    shown = run_object(
        run,
        tenant=callback.tenant,
        request=PublicBaseRequest(),
        charge=charges_of([run.pk]).get(run.pk),
    )
    event, status = EVENTS[shown["status_code"]]
    payload = {
        "event": event,
        "run_id": shown["id"],
        "status": status,
        "output": shown["output"],
        "duration_ms": shown["duration_ms"],
        "created_at": shown["created_at"],
        "completed_at": shown["completed_at"],
        "metadata": shown["metadata"],
        "client_ref": shown["client_ref"],
        "error": shown["error"],
    }
    return json.dumps(payload, cls=DjangoJSONEncoder, separators=(",", ":"), ensure_ascii=False)


def _send(callback: CallbackDelivery, now: datetime) -> Answer:
    try:
        body = callback_body(callback).encode()
    except Exception as exc:
        logger.exception("Callback payload for run %s could not be built", callback.run_id)
        return Answer(error=f"the payload could not be built ({type(exc).__name__})")
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        REQUEST_ID_HEADER: callback.request_id,
    }
    if secret := callback_signing_secret(callback.tenant):
        headers[SIGNATURE_HEADER] = sign(body, secret)
    total = float(setting("WEBHOOK_TIMEOUT_SECONDS"))
    started = time.monotonic()
    try:
        with guarded_stream(
            "POST", callback.url, timeout=total / 3, headers=headers, content=body
        ) as response:
            return Answer(
                status=response.status_code,
                body=capped_body(response, deadline=started + total),
                retry_after=retry_after_seconds(response.headers.get("retry-after"), now=now),
                latency_ms=elapsed_ms(started),
            )
    except OutboundRefused as exc:
        return Answer(status=exc.status, error=exc.message[:ERROR_CHARS])
    except httpx.HTTPError as exc:
        return Answer(error=f"{type(exc).__name__}: {exc}"[:ERROR_CHARS])


def _attempt_finish(callback: CallbackDelivery, number: int, answer: Answer, now: datetime) -> str:
    current = CallbackDelivery.objects.filter(pk=callback.pk, state=PENDING, attempts=number)
    last = {"last_status": answer.status, "last_error": answer.error[:ERROR_CHARS]}
    with transaction.atomic():
        if answer.succeeded:
            current.update(
                state=CallbackDelivery.State.DELIVERED,
                delivered_at=now,
                next_attempt_at=None,
                **last,
            )
            return "delivered"
        retry_at = next_retry_at(number, now=now, retry_after=answer.retry_after)
        if retry_at is None:
            current.update(state=CallbackDelivery.State.FAILED, next_attempt_at=None, **last)
            logger.warning(
                "Callback for run %s given up after %s attempts", callback.run_id, number
            )
            return "failed"
        current.update(next_attempt_at=retry_at, **last)
    return "retrying"
