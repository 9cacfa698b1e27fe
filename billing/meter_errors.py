"""Stripe's asynchronous refusals of meter events it had accepted with a 200.

A thin ``v1.billing.meter.error_report_triggered`` (or ``no_meter_found``) event names a
meter, a validation window and sample errors; each sample carries the request's
idempotency key, ``<identifier>/<attempt>``, so the part before ``/`` names our row. Named
rows are flagged refused at once. Samples are only samples: errors beyond them are left
for ``meter_error_check``, once the summaries have caught up. A refused row goes out
again only under a new identifier, once a person has fixed the cause: a refused
identifier is never reused.
"""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from billing.models import MeterErrorReport, UsageRecord
from billing.naming import meter_identifier

logger = logging.getLogger(__name__)

Pushed = UsageRecord.PushState
ERROR_EVENTS = ("v1.billing.meter.error_report_triggered", "v1.billing.meter.no_meter_found")


@dataclass(frozen=True)
class Refusal:
    identifier: str
    code: str
    message: str


def meter_error_report_apply(event: Any) -> int:
    """Record one error report once and flag the rows it named. Returns rows flagged."""
    data = event.data
    start, end = _moment(data.validation_start), _moment(data.validation_end)
    meter_id = str(getattr(getattr(event, "related_object", None), "id", "") or "")
    refusals = list(_refusals(data))
    error_count = int(getattr(data.reason, "error_count", 0) or 0)
    unnamed = max(0, error_count - len(refusals))
    try:
        with transaction.atomic():
            report = MeterErrorReport.objects.create(
                event_id=event.id,
                event_type=event.type,
                meter_id=meter_id,
                validation_start=start,
                validation_end=end,
                error_count=error_count,
                unnamed_errors=unnamed,
                checked_at=None if unnamed else timezone.now(),
                summary=str(getattr(data, "developer_message_summary", "") or "")[:2000],
            )
            flagged = sum(_flag(refusal) for refusal in refusals)
            MeterErrorReport.objects.filter(pk=report.pk).update(rows_flagged=flagged)
    except IntegrityError:
        logger.info("Meter error report %s already recorded", event.id)
        return 0
    return flagged


def usage_resend_refused(rows: Any) -> int:
    """Send refused rows again under fresh identifiers (``<ns>:<run>:<n>``), after the
    cause was fixed; the refused identifier is kept on the row and never reused."""
    resent = 0
    for row in rows.filter(push_state=Pushed.REFUSED):
        refused = [*row.refused_identifiers, row.identifier]
        resent += UsageRecord.objects.filter(pk=row.pk, push_state=Pushed.REFUSED).update(
            identifier=meter_identifier(row.run_id, len(refused) + 1),
            refused_identifiers=refused,
            push_state=Pushed.PENDING,
            next_push_at=timezone.now(),
            first_sent_at=None,
            push_attempts=0,
            idempotency_key="",
            counted_at=None,
        )
    return resent


def _refusals(data: Any) -> Any:
    for error_type in getattr(data.reason, "error_types", None) or []:
        for sample in getattr(error_type, "sample_errors", None) or []:
            key = str(sample.request.identifier)
            yield Refusal(key.split("/", 1)[0], str(error_type.code), str(sample.error_message))


def _flag(refusal: Refusal) -> int:
    return UsageRecord.objects.filter(
        identifier=refusal.identifier,
        push_state__in=(Pushed.CONFIRMED, Pushed.PENDING, Pushed.NEEDS_ATTENTION),
    ).update(
        push_state=Pushed.REFUSED,
        counted_at=None,
        last_push_error=f"Refused by Stripe after acceptance: {refusal.code}: {refusal.message}"[
            :2000
        ],
    )


def _moment(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, tz=UTC)
    parsed = parse_datetime(str(value))
    if parsed is None:
        raise ValueError(f"not a time: {value!r}")
    return parsed
