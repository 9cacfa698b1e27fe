"""The refusals an error report counted but did not name, judged once summaries settled.

Stripe's report names a few sample events only; the rest are found by comparing, per
customer and minute of event timestamp (the finest window a summary answers), the seconds
Stripe counted with the seconds of our rows it accepted with a 200. That comparison waits
until the report's window is ``SUMMARY_SETTLE_SECONDS`` old and every row of the minute was
answered that long ago: Stripe aggregates asynchronously, and an accepted event not yet
summed must not be taken for a refused one (resending it would bill it twice). Rows with
the same customer, meter, minute and seconds are one to Stripe, so any of them may be
flagged for the one it refused; where the numbers allow more than one choice, or none, a
person decides.
"""

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

import stripe
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from billing.conf import setting
from billing.models import MeteredPrice, MeterErrorReport, TenantBilling, UsageRecord
from billing.stripe_reads import summary_seconds

logger = logging.getLogger(__name__)

Pushed = UsageRecord.PushState
MINUTE = timedelta(minutes=1)
#: Our clock against Stripe's when matching a send to a report's window.
CLOCK_SLACK = timedelta(seconds=5)
SENT = (Pushed.CONFIRMED, Pushed.PENDING, Pushed.NEEDS_ATTENTION, Pushed.REFUSED)


class Unsettled(Exception):
    """A row of the minute was answered while the report was being judged: later."""


@dataclass(frozen=True)
class Bucket:
    tenant_id: int
    minute: datetime


def meter_error_reports_check(*, client: stripe.StripeClient, now: datetime | None = None) -> int:
    """Judge every report whose window has settled; returns the rows flagged refused."""
    now = now or timezone.now()
    settle = timedelta(seconds=int(setting("SUMMARY_SETTLE_SECONDS")))
    due = MeterErrorReport.objects.filter(checked_at__isnull=True, validation_end__lte=now - settle)
    flagged = 0
    for report_id in due.order_by("validation_end").values_list("pk", flat=True):
        try:
            flagged += meter_error_report_check(report_id, client=client, now=now)
        except stripe.StripeError as exc:
            logger.warning("Meter error report %s is checked later: %s", report_id, exc)
    return flagged


def meter_error_report_check(report_id: int, *, client: stripe.StripeClient, now: datetime) -> int:
    """One report, locked so two workers never judge it at once; unsettled, it waits."""
    with transaction.atomic():
        report = (
            MeterErrorReport.objects.select_for_update(skip_locked=True)
            .filter(pk=report_id, checked_at__isnull=True)
            .first()
        )
        if report is None:
            return 0
        price = MeteredPrice.objects.filter(meter_id=report.meter_id).first()
        if report.unnamed_errors == 0 or price is None:
            why = "" if report.unnamed_errors == 0 else "No price of ours uses this meter."
            _close(report, now, flagged=0, note=why)
            return 0
        buckets = _buckets(report, price)
        if not all(_settled(price, bucket, now) for bucket in buckets):
            return 0
        customers = dict(
            TenantBilling.objects.filter(tenant_id__in={b.tenant_id for b in buckets}).values_list(
                "tenant_id", "stripe_customer_id"
            )
        )
        counted = {
            bucket: summary_seconds(
                client,
                price,
                str(customers[bucket.tenant_id]),
                bucket.minute,
                bucket.minute + MINUTE,
            )
            for bucket in buckets
        }
        budget, notes = report.unnamed_errors, []
        for bucket in buckets:
            try:
                flagged, note = _judge(price, bucket, counted[bucket], budget, now)
            except Unsettled:
                transaction.set_rollback(True)
                return 0
            budget -= flagged
            if note:
                notes.append(note)
        _close(report, now, flagged=report.unnamed_errors - budget, note=" ".join(notes))
        return report.unnamed_errors - budget


def _buckets(report: MeterErrorReport, price: MeteredPrice) -> list[Bucket]:
    """The minutes of every row that may have reached Stripe inside the report's window:
    first sent before it closed, answered (or still unanswered) after it opened."""
    start, end = report.validation_start - CLOCK_SLACK, report.validation_end + CLOCK_SLACK
    rows = (
        UsageRecord.objects.filter(metered_price=price, push_state__in=SENT, first_sent_at__lte=end)
        .filter(
            Q(confirmed_at__isnull=True) | Q(confirmed_at__gte=start) | Q(first_sent_at__gte=start)
        )
        .values_list("tenant_id", "event_timestamp")
    )
    found = {Bucket(tenant_id, stamp.replace(second=0, microsecond=0)) for tenant_id, stamp in rows}
    return sorted(found, key=lambda b: (b.tenant_id, b.minute))


def _in_bucket(price: MeteredPrice, bucket: Bucket) -> QuerySet[UsageRecord]:
    return UsageRecord.objects.filter(
        metered_price=price,
        tenant_id=bucket.tenant_id,
        event_timestamp__gte=bucket.minute,
        event_timestamp__lt=bucket.minute + MINUTE,
    )


def _settled(price: MeteredPrice, bucket: Bucket, now: datetime) -> bool:
    """Stripe has summed every event of the minute we know it got: none is still being
    sent, none was answered within the settle delay."""
    settle = timedelta(seconds=int(setting("SUMMARY_SETTLE_SECONDS")))
    rows = _in_bucket(price, bucket)
    in_flight = rows.filter(push_state=Pushed.PENDING, first_sent_at__isnull=False).exists()
    recent = rows.filter(push_state=Pushed.CONFIRMED, confirmed_at__gt=now - settle).exists()
    return not (in_flight or recent)


def _judge(
    price: MeteredPrice, bucket: Bucket, counted: Decimal, budget: int, now: datetime
) -> tuple[int, str]:
    """Flag the rows the minute's shortfall names; (rows flagged, a note for a person).
    The rows are locked, then the minute is checked settled again: a row answered since
    Stripe was read would otherwise look refused."""
    rows = list(
        _in_bucket(price, bucket)
        .filter(push_state=Pushed.CONFIRMED)
        .select_for_update()
        .order_by("pk")
    )
    if not _settled(price, bucket, now):
        raise Unsettled
    ours = Decimal(sum(row.seconds for row in rows))
    if counted == ours:
        return 0, ""
    where = f"tenant {bucket.tenant_id} at {bucket.minute:%Y-%m-%d %H:%M}"
    if counted == 0:
        chosen: list[UsageRecord] | None = rows
    elif counted < ours and counted == counted.to_integral_value():
        chosen = _unique_shortfall(rows, int(ours - counted))
    else:
        chosen = None
    if chosen is None or len(chosen) > budget:
        note = (
            f"{where}: Stripe counted {_plain(counted)} s, we sent {_plain(ours)} s; "
            "no one choice of rows makes up the difference."
        )
        logger.warning("Meter error report needs a person: %s", note)
        return 0, note
    flagged = UsageRecord.objects.filter(
        pk__in=[row.pk for row in chosen], push_state=Pushed.CONFIRMED
    ).update(
        push_state=Pushed.REFUSED,
        counted_at=None,
        last_push_error=(
            "Refused by Stripe after acceptance: its summary for the minute counted "
            f"{_plain(counted)} s of our {_plain(ours)} s (an error report's unnamed error)."
        ),
    )
    return flagged, ""


def _unique_shortfall(rows: list[UsageRecord], shortfall: int) -> list[UsageRecord] | None:
    """The rows whose seconds sum to ``shortfall``, if only one multiset of seconds does
    (rows of equal seconds are interchangeable); None for no choice or several."""
    groups = Counter(row.seconds for row in rows)
    values = sorted(groups)
    ways = [[1] + [0] * shortfall]  # ways[i][s]: choices from values[:i] summing to s (max 2)
    for value in values:
        before = ways[-1]
        ways.append(
            [
                min(
                    2,
                    sum(before[s - k * value] for k in range(groups[value] + 1) if k * value <= s),
                )
                for s in range(shortfall + 1)
            ]
        )
    if ways[-1][shortfall] != 1:
        return None
    take: dict[int, int] = {}
    left = shortfall
    for index in range(len(values) - 1, -1, -1):
        value = values[index]
        k = next(
            k
            for k in range(groups[value] + 1)
            if k * value <= left and ways[index][left - k * value]
        )
        take[value], left = k, left - k * value
    chosen = []
    for row in rows:
        if take.get(row.seconds, 0):
            chosen.append(row)
            take[row.seconds] -= 1
    return chosen


def _close(report: MeterErrorReport, now: datetime, *, flagged: int, note: str) -> None:
    MeterErrorReport.objects.filter(pk=report.pk).update(
        checked_at=now,
        rows_flagged=report.rows_flagged + flagged,
        needs_person=bool(note),
        check_note=note[:2000],
    )


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f")
