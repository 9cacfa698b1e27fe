"""Stripe's asynchronous refusals of meter events it had accepted with a 200.

A thin ``v1.billing.meter.error_report_triggered`` (or ``no_meter_found``) event names a
meter, a validation window and sample errors; each sample carries the request's
idempotency key, ``<identifier>/<attempt>``, so the part before ``/`` names our row. Named
rows are flagged refused; rows in the window not named are found by comparing the
window's summary with what we sent. A refused row goes out again only under a new
identifier, once a person has fixed the cause: a refused identifier is never reused.
"""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import stripe
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from billing.models import MeteredPrice, MeterErrorReport, TenantBilling, UsageRecord
from billing.naming import meter_identifier
from billing.stripe_reads import summary_seconds

logger = logging.getLogger(__name__)

Pushed = UsageRecord.PushState
ERROR_EVENTS = ("v1.billing.meter.error_report_triggered", "v1.billing.meter.no_meter_found")


@dataclass(frozen=True)
class Refusal:
    identifier: str
    code: str
    message: str


def meter_error_report_apply(event: Any, *, client: stripe.StripeClient) -> int:
    """Record one error report once and flag the rows it refused. Returns rows flagged."""
    data = event.data
    start, end = _moment(data.validation_start), _moment(data.validation_end)
    meter_id = str(getattr(getattr(event, "related_object", None), "id", "") or "")
    refusals = list(_refusals(data))
    try:
        with transaction.atomic():
            report = MeterErrorReport.objects.create(
                event_id=event.id,
                event_type=event.type,
                meter_id=meter_id,
                validation_start=start,
                validation_end=end,
                error_count=int(getattr(data.reason, "error_count", 0) or 0),
                summary=str(getattr(data, "developer_message_summary", "") or "")[:2000],
            )
            flagged = sum(_flag(refusal) for refusal in refusals)
    except IntegrityError:
        logger.info("Meter error report %s already recorded", event.id)
        return 0
    if meter_id:
        flagged += _flag_unnamed_in_window(client, meter_id, start, end)
    MeterErrorReport.objects.filter(pk=report.pk).update(rows_flagged=flagged)
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


def _flag_unnamed_in_window(
    client: stripe.StripeClient, meter_id: str, start: datetime, end: datetime
) -> int:
    """Samples name a few rows only. A customer for whom Stripe counted nothing in the
    window although we sent usage there (an unknown customer, say) had all of it refused;
    any other shortfall is left to reconciliation and a person."""
    price = MeteredPrice.objects.filter(meter_id=meter_id).first()
    if price is None:
        return 0
    window_start = start.replace(second=0, microsecond=0)
    window_end = end.replace(second=0, microsecond=0) + timedelta(minutes=1)
    sent = UsageRecord.objects.filter(
        metered_price=price,
        first_sent_at__isnull=False,
        event_timestamp__gte=window_start,
        event_timestamp__lt=window_end,
    )
    flagged = 0
    for billing in TenantBilling.objects.filter(tenant_id__in=sent.values("tenant_id")):
        rows = sent.filter(tenant_id=billing.tenant_id)
        counted = summary_seconds(
            client, price, str(billing.stripe_customer_id), window_start, window_end
        )
        unflagged = rows.exclude(push_state=Pushed.REFUSED)
        total = Decimal(unflagged.aggregate(s=Sum("seconds"))["s"] or 0)
        if counted == 0 and total > 0:
            flagged += unflagged.update(
                push_state=Pushed.REFUSED,
                counted_at=None,
                last_push_error="Refused by Stripe after acceptance (in an error report's window).",
            )
    return flagged


def _moment(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, tz=UTC)
    parsed = parse_datetime(str(value))
    if parsed is None:
        raise ValueError(f"not a time: {value!r}")
    return parsed
