"""Reads of the ledger for the API and the portal: every one takes ``tenant=`` (keyword only)."""

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Literal
from uuid import UUID

from django.db.models import BigIntegerField, Count, F, Q, Sum
from django.db.models.expressions import Combinable
from django.db.models.functions import Cast, Round, TruncDate
from django.utils import timezone

from billing.conf import payment_method_allowance, stripe_enabled
from billing.models import (
    CapNotice,
    EndUserLimit,
    Price,
    RunCharge,
    TenantBilling,
    UsageRecord,
)
from billing.naming import metered_price_label
from billing.periods import period_of
from billing.pricing import invoice_line_cents, prices_in_effect
from seedance.charges import Charge, ChargeState
from seedance.models import Tenant
from seedance.run_input import RESOLUTIONS

GroupBy = Literal["day", "resolution", "end_user_id"]
GROUP_BY_CHOICES: tuple[GroupBy, ...] = ("day", "resolution", "end_user_id")
#: Prices, and so every ledger amount, are in US dollars.
CURRENCY = "usd"
#: The ledger's decimal places: sums are taken in whole millionths of a dollar.
LEDGER_PLACES = 6


#: Rows Stripe has not yet counted: their prices' items must stay on the subscription.
UNSENT_STATES = (
    UsageRecord.PushState.PENDING,
    UsageRecord.PushState.HELD,
    UsageRecord.PushState.WAITING,
    UsageRecord.PushState.REFUSED,
    UsageRecord.PushState.NEEDS_ATTENTION,
)


def prices_to_carry(*, tenant: Tenant, now: datetime) -> set[tuple[str, Decimal]]:
    """Every (resolution, unit price) the tenant's subscription must have an item for: the
    newest price in effect, those scheduled to take effect, and those of runs in flight
    or rows not yet counted by Stripe."""
    carried: set[tuple[str, Decimal]] = set()
    for resolution in RESOLUTIONS:
        carried.add(
            (
                resolution,
                prices_in_effect(tenant=tenant, resolution=resolution, at=now)[0].per_second,
            )
        )
    scheduled = Price.objects.filter(effective_from__gt=now).filter(
        Q(tenant=tenant) | Q(tenant__isnull=True)
    )
    carried.update(scheduled.values_list("resolution", "per_second"))
    in_flight = RunCharge.objects.filter(tenant=tenant, state=RunCharge.State.RESERVED)
    carried.update(in_flight.values_list("resolution", "unit_price").distinct())
    unsent = UsageRecord.objects.filter(tenant=tenant, push_state__in=UNSENT_STATES)
    carried.update(unsent.values_list("resolution", "unit_price").distinct())
    return {(resolution, Decimal(price).normalize()) for resolution, price in carried}


@dataclass(frozen=True)
class UsageTotals:
    runs: int
    seconds: int
    amount: Decimal


@dataclass(frozen=True)
class UsageGroup(UsageTotals):
    key: str


@dataclass(frozen=True)
class UsageSummary:
    start: datetime
    end: datetime
    group_by: GroupBy
    totals: UsageTotals
    groups: list[UsageGroup]
    currency: str = CURRENCY


def usage_summary(
    *,
    tenant: Tenant,
    start: datetime,
    end: datetime,
    group_by: GroupBy,
    end_user_id: str | None = None,
) -> UsageSummary:
    """The tenant's ledger rows whose meter event falls in [start, end) (the time Stripe
    bills them at), summed per group, exactly."""
    records = UsageRecord.objects.exclude(push_state=UsageRecord.PushState.VOIDED).filter(
        tenant=tenant, event_timestamp__gte=start, event_timestamp__lt=end
    )
    if end_user_id is not None:
        records = records.filter(end_user_id=end_user_id)
    rows = records.values(key=_group_key(group_by)).annotate(
        n_runs=Count("id"), n_seconds=Sum("seconds"), micros=Sum(_amount_in_micros())
    )
    # Sorted here, not by the database, so the order is the same under every collation.
    groups = sorted((_group(row) for row in rows), key=lambda group: group.key)
    totals = UsageTotals(
        runs=sum(group.runs for group in groups),
        seconds=sum(group.seconds for group in groups),
        amount=sum((group.amount for group in groups), _micros_to_amount(0)),
    )
    return UsageSummary(start=start, end=end, group_by=group_by, totals=totals, groups=groups)


def _group_key(group_by: GroupBy) -> Combinable:
    if group_by == "day":
        return TruncDate("event_timestamp", tzinfo=UTC)
    return F(group_by)


def _amount_in_micros() -> Cast:
    """SQLite stores decimals as floats; whole millionths add up exactly on every database."""
    return Cast(Round(F("amount") * 10**LEDGER_PLACES), output_field=BigIntegerField())


def _group(row: Mapping[str, Any]) -> UsageGroup:
    key = row["key"]
    return UsageGroup(
        key=key.isoformat() if isinstance(key, date) else str(key),
        runs=int(row["n_runs"]),
        seconds=int(row["n_seconds"]),
        amount=_micros_to_amount(row["micros"]),
    )


def _micros_to_amount(micros: int | Decimal) -> Decimal:
    return Decimal(int(micros)).scaleb(-LEDGER_PLACES)


#: Rows not (yet) on any invoice: a held video awaiting review, a rejected one.
NOT_INVOICED = (UsageRecord.PushState.VOIDED, UsageRecord.PushState.WAITING)


@dataclass(frozen=True)
class InvoiceLine:
    """One metered price's line as Stripe's invoice reads it: rounded to the cent."""

    resolution: str
    unit_price: Decimal
    seconds: int
    cents: int

    @property
    def label(self) -> str:
        return metered_price_label(self.resolution, self.unit_price)

    @property
    def amount(self) -> Decimal:
        return Decimal(self.cents).scaleb(-2)


def ledger_invoice_lines(*, tenant: Tenant, start: datetime, end: datetime) -> list[InvoiceLine]:
    """The ledger for a period as Stripe will invoice it: one line per (resolution, unit
    price), each rounded once, so their sum is the invoice's, not the exact total rounded."""
    rows = (
        UsageRecord.objects.filter(
            tenant=tenant, event_timestamp__gte=start, event_timestamp__lt=end
        )
        .exclude(push_state__in=NOT_INVOICED)
        .values("resolution", "unit_price")
        .annotate(n_seconds=Sum("seconds"))
    )
    lines = [
        InvoiceLine(
            resolution=row["resolution"],
            unit_price=Decimal(row["unit_price"]).normalize(),
            seconds=int(row["n_seconds"]),
            cents=invoice_line_cents(int(row["n_seconds"]), Decimal(row["unit_price"])),
        )
        for row in rows
    ]
    return sorted(lines, key=lambda line: (line.resolution, line.unit_price))


def month_spend(*, tenant: Tenant, end_user_id: str | None = None) -> Decimal:
    """Spent plus reserved this UTC month: what the caps compare against."""
    charges = RunCharge.objects.for_tenant(tenant).filter(period=period_of(timezone.now()))
    if end_user_id is not None:
        charges = charges.filter(end_user_id=end_user_id)
    return charges.aggregate(total=Sum("amount"))["total"] or Decimal(0)


def end_user_cap_of(billing: TenantBilling, end_user_id: str) -> Decimal | None:
    if not end_user_id:
        return None
    override = (
        EndUserLimit.objects.filter(tenant_id=billing.tenant_id, end_user_id=end_user_id)
        .values_list("monthly_spend_cap", flat=True)
        .first()
    )
    return override if override is not None else billing.end_user_monthly_spend_cap


@dataclass(frozen=True)
class SpendStatus:
    """This month's spend against a cap (None: no cap)."""

    spent: Decimal
    cap: Decimal | None

    @property
    def remaining(self) -> Decimal | None:
        return None if self.cap is None else max(self.cap - self.spent, Decimal(0))


def spend_status(*, tenant: Tenant, end_user_id: str | None = None) -> SpendStatus:
    """Spend (settled plus reserved) this UTC month against the cap that applies."""
    billing = TenantBilling.objects.filter(pk=tenant.pk).first()
    if end_user_id is None:
        cap = billing.monthly_spend_cap if billing else None
    else:
        cap = end_user_cap_of(billing, end_user_id) if billing else None
    return SpendStatus(spent=month_spend(tenant=tenant, end_user_id=end_user_id), cap=cap)


def cap_notices_this_period(*, tenant: Tenant, end_user_id: str | None = None) -> list[CapNotice]:
    """This UTC month's cap notices, the highest threshold of each cap only: all of the
    tenant's, or those of one end user's cap."""
    notices = CapNotice.objects.for_tenant(tenant).filter(period=period_of(timezone.now()))
    if end_user_id is not None:
        notices = notices.filter(kind=CapNotice.Kind.END_USER, end_user_id=end_user_id)
    highest: dict[tuple[str, str], CapNotice] = {}
    for notice in notices.order_by("kind", "end_user_id", "threshold"):
        highest[(notice.kind, notice.end_user_id)] = notice
    return list(highest.values())


def tenant_billing(*, tenant: Tenant) -> TenantBilling | None:
    return TenantBilling.objects.filter(pk=tenant.pk).first()


def end_user_limits(*, tenant: Tenant) -> list[EndUserLimit]:
    return list(EndUserLimit.objects.for_tenant(tenant).order_by("end_user_id"))


def run_money(*, tenant: Tenant, run_id: UUID | str) -> tuple[RunCharge | None, UsageRecord | None]:
    """A run's reservation and its ledger row, if any: what its cost card shows."""
    charge = RunCharge.objects.for_tenant(tenant).filter(run_id=run_id).first()
    record = UsageRecord.objects.for_tenant(tenant).filter(run_id=run_id).first()
    return charge, record


#: Ledger states a run's cost card waits out: the video being copied, held for review,
#: or (with Stripe on) about to be sent. Past them the card says all it will for a while.
_COST_MOVING = (UsageRecord.PushState.AWAITING_DELIVERY, UsageRecord.PushState.WAITING)


def run_cost_settled(*, run_is_terminal: bool, record: UsageRecord | None) -> bool:
    """Whether a run's cost card has stopped changing, so the page stops asking."""
    if not run_is_terminal:
        return False
    if record is None:
        return True
    if record.push_state in _COST_MOVING:
        return False
    return not (record.push_state == UsageRecord.PushState.PENDING and stripe_enabled())


@dataclass(frozen=True)
class PaymentMethodStatus:
    """Whether a tenant must add a payment method before its next run.

    ``required``: Stripe is configured and the tenant is not exempt. Without a card it may
    use ``allowance`` once, all time (a grace billed like all usage, not a discount).
    """

    required: bool
    has_card: bool
    allowance: Decimal
    used: Decimal

    def refuses(self, reserving: Decimal) -> bool:
        return self.required and not self.has_card and self.used + reserving > self.allowance

    @property
    def blocked(self) -> bool:
        """Even the smallest next run would be refused."""
        return self.required and not self.has_card and self.used >= self.allowance


def payment_method_status(*, billing: TenantBilling | None, tenant: Tenant) -> PaymentMethodStatus:
    """From the tenant's billing row (locked by the caller when admitting a run)."""
    required = stripe_enabled() and not (billing is not None and billing.payment_method_exempt)
    has_card = billing is not None and billing.has_payment_method
    used = Decimal(0)
    if required and not has_card:
        committed = RunCharge.objects.for_tenant(tenant).exclude(state=RunCharge.State.RELEASED)
        used = committed.aggregate(total=Sum("amount"))["total"] or Decimal(0)
    return PaymentMethodStatus(
        required=required, has_card=has_card, allowance=payment_method_allowance(), used=used
    )


def run_charges(run_ids: Collection[UUID]) -> dict[UUID, Charge]:
    """seedance's charge reader (``seedance.charges``): each run's money in two reads.

    ``billed`` only once reconciliation saw Stripe count the meter event: an accepted
    event may still be refused later ("A 200 is not billing").
    """
    records = {row.run_id: row for row in UsageRecord.objects.filter(run_id__in=run_ids)}
    charges: dict[UUID, Charge] = {}
    for reservation in RunCharge.objects.filter(run_id__in=run_ids):
        record = records.get(reservation.run_id)
        charges[reservation.run_id] = _charge(reservation, record)
    return charges


def _charge(reservation: RunCharge, record: UsageRecord | None) -> Charge:
    def charge(state: ChargeState, amount: Decimal, record: UsageRecord | None = None) -> Charge:
        return Charge(
            state=state,
            amount=amount,
            currency=CURRENCY,
            unit_price=reservation.unit_price,
            seconds=record.seconds if record else None,
            meter_event_identifier=record.identifier if record else None,
        )

    if record is None:
        if reservation.state == RunCharge.State.RESERVED:
            return charge("estimate", reservation.amount)
        return charge("not_billed", Decimal(0))
    if record.push_state == UsageRecord.PushState.VOIDED:
        return charge("not_billed", Decimal(0), record)
    return charge("billed" if record.counted_at is not None else "pending", record.amount, record)
