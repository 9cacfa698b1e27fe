"""The delivery records: accepted deliveries once per event, refused ones counted per hour.

Both are settled by the database (a unique index, an UPDATE with F()), so concurrent
senders on PostgreSQL or SQLite never double count and never apply an event twice.
"""

from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from seedance.conf import setting
from seedance.models import InboundDelivery, RejectedDelivery, RejectedDeliveryCount


def delivery_claim(
    *,
    source: str,
    dedupe_key: str,
    event_type: str = "",
    subject: str = "",
    object_id: str = "",
    request_id: str = "",
    now: datetime | None = None,
) -> tuple[InboundDelivery, bool]:
    """Record a delivery; True when it is the first of its event, to be applied now.

    Call it inside the transaction that applies the delivery: a concurrent repeat waits on
    the unique index until that transaction ends, then counts as a replay, or is applied
    itself if the first one rolled back.
    """
    now = now or timezone.now()
    try:
        with transaction.atomic():
            delivery = InboundDelivery.objects.create(
                source=source,
                dedupe_key=dedupe_key,
                event_type=event_type[:100],
                subject=subject[:64],
                object_id=object_id[:255],
                request_id=request_id[:128],
                first_received_at=now,
                last_received_at=now,
            )
        return delivery, True
    except IntegrityError:
        repeats = InboundDelivery.objects.filter(source=source, dedupe_key=dedupe_key)
        repeats.update(replays=F("replays") + 1, last_received_at=now)
        return repeats.get(), False


def delivery_settle(delivery: InboundDelivery, *, outcome: str) -> None:
    delivery.outcome = outcome
    delivery.save(update_fields=["outcome"])


def rejection_record(
    *, source: str, reason: str, message: str, body: bytes, now: datetime | None = None
) -> bool:
    """Count a refused delivery in its UTC hour; True when its truncated body was kept.

    The count is read back under the row lock our own increment holds, so it is this
    delivery's place in the hour and the cap holds under concurrent rejections.
    """
    now = now or timezone.now()
    hour = now.replace(minute=0, second=0, microsecond=0)
    with transaction.atomic():
        counter = RejectedDeliveryCount.objects.filter(source=source, hour=hour)
        if not counter.update(count=F("count") + 1):
            try:
                with transaction.atomic():
                    RejectedDeliveryCount.objects.create(source=source, hour=hour, count=1)
            except IntegrityError:
                counter.update(count=F("count") + 1)
        if counter.get().count > int(setting("INBOUND_REJECTED_KEPT_PER_HOUR")):
            return False
        RejectedDelivery.objects.create(
            source=source,
            received_at=now,
            reason=reason[:64],
            message=message[:255],
            body=_printable(body[: int(setting("INBOUND_REJECTED_BODY_BYTES"))]),
            body_bytes=len(body),
        )
    return True


def _printable(body: bytes) -> str:
    """PostgreSQL text holds no NUL and only valid UTF-8, whatever a sender posts."""
    return body.decode("utf-8", errors="replace").replace("\x00", "\ufffd")
