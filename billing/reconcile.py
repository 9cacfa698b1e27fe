"""Reconciliation: the ledger against Stripe's own numbers, per tenant, price and period.

Stripe's 200 means "accepted", not "billed": it validates meter events later and its
meter event summaries and invoices are what it will charge. So, for windows older than a
settle delay (summaries are eventually consistent), the seconds the ledger sent are
compared with the meter's summary for the tenant's customer, and the ledger's amount per
price with the invoice line Stripe computed (the preview for the current period, the
period's invoice for past ones), line ``amount`` against line, never ``total``.

A match marks every row of the window counted. A difference that exactly one row
explains, within 20 h of that row's first send, is resent with the same identifier
(Stripe dedupes on it for about 24 h). Every other difference is stored for a person,
with what to do: never an automatic resend after Stripe's dedupe window.
"""

import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import stripe
from django.db.models import Sum
from django.utils import timezone

from billing.conf import setting
from billing.models import BillingDifference, MeteredPrice, TenantBilling, UsageRecord
from billing.periods import month_start, next_month_start
from billing.pricing import invoice_line_cents
from billing.stripe_reads import invoice_line_cents_by_price, summary_seconds
from seedance.models import Tenant

logger = logging.getLogger(__name__)

Pushed = UsageRecord.PushState
Kind = BillingDifference.Kind
#: Rows Stripe should be counting: sent at least once, or refused after acceptance.
SENT_STATES = (Pushed.CONFIRMED, Pushed.PENDING, Pushed.NEEDS_ATTENTION, Pushed.REFUSED)


@dataclass
class ReconcileReport:
    matched: int = 0
    resent: int = 0
    counted: int = 0
    differences: list[BillingDifference] = field(default_factory=list)
    unsettled: int = 0

    @property
    def clean(self) -> bool:
        return not self.differences


def billing_reconcile(
    *,
    client: stripe.StripeClient,
    tenants: list[Tenant] | None = None,
    periods: list[date] | None = None,
    now: datetime | None = None,
) -> ReconcileReport:
    """Compare every (tenant, price, period) Stripe can already answer for."""
    now = now or timezone.now()
    settled_until = _next_minute(now - timedelta(seconds=int(setting("RECONCILE_SETTLE_SECONDS"))))
    report = ReconcileReport()
    billed = TenantBilling.objects.filter(stripe_customer_id__isnull=False).select_related("tenant")
    if tenants is not None:
        billed = billed.filter(tenant__in=tenants)
    this_month = month_start(now)
    for billing in billed:
        for period in periods or [
            month_start(this_month - timedelta(days=1)).date(),
            this_month.date(),
        ]:
            start = datetime(period.year, period.month, 1, tzinfo=UTC)
            _reconcile_period(client, billing, start, settled_until, now, report)
    return report


def _reconcile_period(
    client: stripe.StripeClient,
    billing: TenantBilling,
    start: datetime,
    settled_until: datetime,
    now: datetime,
    report: ReconcileReport,
) -> None:
    end = min(next_month_start(start), settled_until)
    if end <= start:
        return
    rows = _sent_rows(billing.tenant, start, next_month_start(start))
    prices = MeteredPrice.objects.filter(pk__in=rows.values("metered_price").distinct()).order_by(
        "pk"
    )
    lines: dict[str, int] | None = None
    for price in prices:
        settled = rows.filter(metered_price=price, event_timestamp__lt=end)
        ledger = Decimal(settled.aggregate(s=Sum("seconds"))["s"] or 0)
        try:
            counted = summary_seconds(client, price, str(billing.stripe_customer_id), start, end)
        except stripe.InvalidRequestError as exc:
            logger.warning("Stripe has no summary for %s on %s: %s", billing, price, exc)
            counted = Decimal(0)  # an unknown customer bills nothing: a difference to show
        if ledger != counted:
            _meter_difference(billing, price, start, end, ledger, counted, settled, now, report)
            continue
        report.matched += 1
        report.counted += _mark_counted(settled, now)
        _resolve(billing, Kind.METER, price, start, now)
        if rows.filter(metered_price=price, event_timestamp__gte=end).exists():
            report.unsettled += 1
            continue  # the invoice will include events Stripe has not summed yet
        if lines is None:
            lines = invoice_line_cents_by_price(client, billing, start, now)
        ledger_cents = Decimal(invoice_line_cents(int(ledger), price.unit_price))
        stripe_cents = Decimal(lines.get(price.price_id, 0))
        if ledger_cents == stripe_cents:
            _resolve(billing, Kind.INVOICE_LINE, price, start, now)
        else:
            _store(
                billing,
                Kind.INVOICE_LINE,
                price,
                start,
                end,
                ledger_cents,
                stripe_cents,
                now,
                report,
                action=(
                    "Stripe's invoice line differs from the ledger although the meter agrees: "
                    "check the subscription item's price and the invoice; correct with a "
                    "credit note, never by resending usage."
                ),
            )


def _sent_rows(tenant: Tenant, start: datetime, end: datetime) -> Any:
    return UsageRecord.objects.filter(
        tenant=tenant,
        push_state__in=SENT_STATES,
        first_sent_at__isnull=False,
        event_timestamp__gte=start,
        event_timestamp__lt=end,
    )


def _meter_difference(
    billing: TenantBilling,
    price: MeteredPrice,
    start: datetime,
    end: datetime,
    ledger: Decimal,
    counted: Decimal,
    settled: Any,
    now: datetime,
    report: ReconcileReport,
) -> None:
    missing = ledger - counted
    resend_until = now - timedelta(seconds=int(setting("UNKNOWN_OUTCOME_ATTENTION_SECONDS")))
    explaining = list(
        settled.filter(counted_at__isnull=True, seconds=missing).exclude(push_state=Pushed.REFUSED)
    )
    if missing > 0 and len(explaining) == 1 and explaining[0].first_sent_at > resend_until:
        row = explaining[0]
        UsageRecord.objects.filter(pk=row.pk).update(
            push_state=Pushed.PENDING, next_push_at=now, last_push_error="Resent: not counted"
        )
        report.resent += 1
        _store(
            billing,
            Kind.METER,
            price,
            start,
            end,
            ledger,
            counted,
            now,
            report,
            action=f"Resent {row.identifier} with the same identifier (within Stripe's dedupe).",
            state=BillingDifference.State.RESENT,
        )
        return
    gap = format(abs(missing).normalize(), "f")
    if missing > 0:
        action = (
            f"Stripe counted {gap} s fewer than the ledger sent. Rows refused after "
            "acceptance are marked refused: fix the cause shown on them, then resend them "
            "under a new identifier (the admin action on usage records). Otherwise find the "
            "uncounted rows; resend by hand only if Stripe has no event with their identifier."
        )
    else:
        action = (
            f"Stripe counted {gap} s more than the ledger: cancel the extra event with a "
            "meter event adjustment within 24 h of its receipt, else issue a credit note."
        )
    _store(billing, Kind.METER, price, start, end, ledger, counted, now, report, action=action)


def _store(
    billing: TenantBilling,
    kind: str,
    price: MeteredPrice,
    start: datetime,
    end: datetime,
    ledger: Decimal,
    stripe_value: Decimal,
    now: datetime,
    report: ReconcileReport,
    *,
    action: str,
    state: str = BillingDifference.State.OPEN,
) -> None:
    values: dict[str, Any] = {
        "window_start": start,
        "window_end": end,
        "ledger_value": ledger,
        "stripe_value": stripe_value,
        "action": action,
        "checked_at": now,
    }
    key: dict[str, Any] = {
        "tenant": billing.tenant,
        "kind": kind,
        "metered_price": price,
        "period": start.date(),
    }
    if state == BillingDifference.State.OPEN:
        difference, _ = BillingDifference.objects.update_or_create(
            **key, state=BillingDifference.State.OPEN, defaults=values
        )
        report.differences.append(difference)
        logger.warning("Billing difference: %s", difference)
    else:
        BillingDifference.objects.create(**key, **values, state=state, resolved_at=now)


def _resolve(
    billing: TenantBilling, kind: str, price: MeteredPrice, start: datetime, now: datetime
) -> None:
    BillingDifference.objects.filter(
        tenant=billing.tenant,
        kind=kind,
        metered_price=price,
        period=start.date(),
        state=BillingDifference.State.OPEN,
    ).update(state=BillingDifference.State.RESOLVED, resolved_at=now, checked_at=now)


def _mark_counted(settled: Any, now: datetime) -> int:
    """Stripe's sum equals ours: every row of the window is billed, whatever its answer
    said (a crash after acceptance, a lost answer)."""
    settled.filter(push_state__in=(Pushed.PENDING, Pushed.NEEDS_ATTENTION)).update(
        push_state=Pushed.CONFIRMED, confirmed_at=now, last_push_error=""
    )
    return int(settled.filter(counted_at__isnull=True).update(counted_at=now))


def _next_minute(moment: datetime) -> datetime:
    """Summaries take minute-aligned bounds: the window ends at the minute after ``moment``."""
    return moment.replace(second=0, microsecond=0) + timedelta(minutes=1)
