"""Sending deliveries: which are due, one attempt, and what its answer means.

- The dispatcher claims a due delivery by moving ``next_attempt_at`` on by
  ``WEBHOOK_LEASE_SECONDS`` and enqueues a task carrying that lease; the task starts the
  attempt only while the lease is still the delivery's, and moves it on again for the
  attempt's length. A worker killed mid-attempt leaves the lease to run out: the
  dispatcher sends again, with the same ``webhook-id`` (at least once).
- A delivery is not due while its endpoint is disabled, its tenant is suspended (both
  checked again as the attempt starts: paused, not dropped), or an earlier delivery of the
  same run to the same endpoint is still pending (a run's events arrive in order).
- 2xx delivers. Anything else, a refused URL, a redirect, a timeout, is a failed attempt,
  retried on ``seedance.webhooks.retries``' schedule; 410 and a long failure streak also
  disable the endpoint (``seedance.webhooks.health``).
"""

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from seedance.conf import setting
from seedance.exceptions import OutboundRefused
from seedance.models import WebhookAttempt, WebhookDelivery
from seedance.outbound import guarded_stream
from seedance.webhooks.endpoints import endpoint_signing_secrets
from seedance.webhooks.health import endpoint_failed, endpoint_succeeded
from seedance.webhooks.payloads import event_body
from seedance.webhooks.retries import next_retry_at, retry_after_seconds
from seedance.webhooks.signing import signed_headers

logger = logging.getLogger(__name__)

PENDING = WebhookDelivery.State.PENDING
BATCH_SIZE = 200
#: What an attempt's log row says until its answer is recorded (kept if the worker dies).
INTERRUPTED = "no answer recorded: the attempt was interrupted"
#: Beyond the timeout, how long an attempt under way keeps its delivery from others.
SEND_MARGIN_SECONDS = 30.0
ERROR_CHARS = 500


@dataclass(frozen=True)
class Answer:
    status: int | None = None
    error: str = ""
    body: str = ""
    retry_after: float | None = None
    latency_ms: int = 0

    @property
    def succeeded(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def deliveries_claim_due(now: datetime) -> list[tuple[int, datetime]]:
    """Claim up to a batch of due deliveries; each comes with the lease its task must hold."""
    earlier = WebhookDelivery.objects.filter(
        endpoint=OuterRef("endpoint"), run=OuterRef("run"), state=PENDING, pk__lt=OuterRef("pk")
    )
    due = (
        WebhookDelivery.objects.filter(
            state=PENDING,
            next_attempt_at__lte=now,
            endpoint__enabled=True,
            endpoint__tenant__suspended_at__isnull=True,
        )
        .filter(~Exists(earlier))
        .order_by("next_attempt_at")
        .values_list("pk", "next_attempt_at")[:BATCH_SIZE]
    )
    lease = now + timedelta(seconds=float(setting("WEBHOOK_LEASE_SECONDS")))
    claimed = []
    for delivery_id, booked in due:
        moved = WebhookDelivery.objects.filter(
            pk=delivery_id, state=PENDING, next_attempt_at=booked
        ).update(next_attempt_at=lease)
        if moved == 1:
            claimed.append((delivery_id, lease))
    return claimed


def delivery_attempt(delivery_id: int, lease: datetime, *, now: datetime | None = None) -> str:
    """One attempt of a delivery the dispatcher leased; what became of it, in a word."""
    now = now or timezone.now()
    started = _attempt_start(delivery_id, lease, now)
    if started is None:
        return "skipped"
    delivery, attempt = started
    return _attempt_finish(delivery, attempt, _send(delivery, now), now)


def _attempt_start(
    delivery_id: int, lease: datetime, now: datetime
) -> tuple[WebhookDelivery, WebhookAttempt] | None:
    held = WebhookDelivery.objects.filter(pk=delivery_id, state=PENDING, next_attempt_at=lease)
    with transaction.atomic():
        delivery = held.select_related("event__tenant", "endpoint__tenant").first()
        if delivery is None:
            return None
        if not delivery.endpoint.enabled or delivery.endpoint.tenant.is_suspended:
            # Paused, not dropped: due again the moment it may be sent.
            held.update(next_attempt_at=now)
            return None
        number = delivery.attempts + 1
        send_lease = float(setting("WEBHOOK_TIMEOUT_SECONDS")) + SEND_MARGIN_SECONDS
        if (
            held.filter(attempts=delivery.attempts).update(
                attempts=number, next_attempt_at=now + timedelta(seconds=send_lease)
            )
            != 1
        ):
            return None
        attempt = WebhookAttempt.objects.create(
            delivery=delivery,
            number=number,
            sent_at=now,
            webhook_timestamp=int(now.timestamp()),
            error=INTERRUPTED,
        )
    return delivery, attempt


def _send(delivery: WebhookDelivery, now: datetime) -> Answer:
    event, endpoint = delivery.event, delivery.endpoint
    try:
        body = event_body(event)
    except Exception as exc:
        # A payload that cannot be built fails the attempt (and in time the delivery)
        # rather than looping on the lease forever.
        logger.exception("Webhook payload for event %s could not be built", event.id)
        return Answer(error=f"the payload could not be built ({type(exc).__name__})")
    # A missing or wrong WEBHOOK_SECRET_KEYS raises here: the lease brings it back once fixed.
    headers = signed_headers(
        msg_id=event.id,
        timestamp=now,
        body=body,
        signing_secrets=endpoint_signing_secrets(endpoint, now=now),
    )
    total = float(setting("WEBHOOK_TIMEOUT_SECONDS"))
    started = time.monotonic()
    try:
        # Connecting, sending and waiting for the answer's head share the budget; the
        # body is read only while some is left.
        with guarded_stream(
            "POST", endpoint.url, timeout=total / 3, headers=headers, content=body.encode()
        ) as response:
            text = capped_body(response, deadline=started + total)
            return Answer(
                status=response.status_code,
                body=text,
                retry_after=retry_after_seconds(response.headers.get("retry-after"), now=now),
                latency_ms=elapsed_ms(started),
            )
    except OutboundRefused as exc:
        return Answer(
            status=exc.status, error=exc.message[:ERROR_CHARS], latency_ms=elapsed_ms(started)
        )
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}"[:ERROR_CHARS]
        return Answer(error=error, latency_ms=elapsed_ms(started))


def capped_body(response: httpx.Response, *, deadline: float) -> str:
    cap = int(setting("WEBHOOK_RESPONSE_BODY_BYTES"))
    kept = b""
    for chunk in response.iter_bytes():
        kept += chunk
        if len(kept) >= cap or time.monotonic() > deadline:
            break
    return kept[:cap].decode("utf-8", errors="replace")


def elapsed_ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _attempt_finish(
    delivery: WebhookDelivery, attempt: WebhookAttempt, answer: Answer, now: datetime
) -> str:
    current = WebhookDelivery.objects.filter(pk=delivery.pk, state=PENDING, attempts=attempt.number)
    last = {"last_status": answer.status, "last_error": answer.error[:ERROR_CHARS]}
    with transaction.atomic():
        WebhookAttempt.objects.filter(pk=attempt.pk).update(
            status_code=answer.status,
            error=answer.error,
            latency_ms=answer.latency_ms,
            response_body=answer.body,
        )
        if answer.succeeded:
            current.update(
                state=WebhookDelivery.State.DELIVERED,
                delivered_at=now,
                next_attempt_at=None,
                **last,
            )
            endpoint_succeeded(delivery.endpoint_id)
            return "delivered"
        retry_at = next_retry_at(attempt.number, now=now, retry_after=answer.retry_after)
        if retry_at is None:
            current.update(state=WebhookDelivery.State.FAILED, next_attempt_at=None, **last)
        else:
            current.update(next_attempt_at=retry_at, **last)
        endpoint_failed(delivery.endpoint_id, status=answer.status, now=now)
    return "failed" if retry_at is None else "retrying"
