"""The portal's money reads and writes: this month's usage, budgets, caps and overrides.

Amounts come from the ledger (``usage_summary``) and the caps' own arithmetic
(``spend_status``), never recomputed here, so the page shows what the bill will say.
"""

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal

import stripe
from django.db import transaction
from django.utils import timezone

from billing.cap_notices import cap_notices_check
from billing.limits import tenant_billing_for_update
from billing.models import EndUserLimit, RunCharge, TenantBilling
from billing.selectors import (
    InvoiceLine,
    UsageGroup,
    UsageTotals,
    ledger_invoice_lines,
    spend_status,
    tenant_billing,
    usage_summary,
)
from billing.stripe_reads import invoice_line_cents_by_rate
from seedance.audit import Action, Actor, audit_record, changes
from seedance.models import Person, Tenant

CENTS = Decimal("0.01")
PORTAL_PREFIX = "portal:"


def usd(amount: Decimal) -> str:
    """Dollars and cents, rounded half up like an invoice: ``$1.21``."""
    return f"${amount.quantize(CENTS, rounding=ROUND_HALF_UP):,}"


def usd_per_second(price: Decimal) -> str:
    """A unit price with every significant digit, at least cents: ``$0.2419/s``."""
    digits = max(2, -price.normalize().as_tuple().exponent)  # type: ignore[operator]
    return f"${price:.{digits}f}/s"


def month_bounds(moment: datetime) -> tuple[datetime, datetime]:
    """The UTC calendar month holding ``moment``: [first day 00:00, next first day)."""
    start = moment.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = (
        start.replace(year=start.year + 1, month=1)
        if start.month == 12
        else start.replace(month=start.month + 1)
    )
    return start, end


@dataclass(frozen=True)
class Budget:
    label: str
    spent: Decimal
    cap: Decimal | None
    remaining: Decimal | None


@dataclass(frozen=True)
class EndUserUsage:
    end_user_id: str
    label: str
    usage: UsageGroup


@dataclass(frozen=True)
class UsageOverview:
    start: datetime
    end: datetime
    totals: UsageTotals
    days: list[UsageGroup]
    #: Per end user, for tenant admins; None when the viewer may not see it.
    end_users: list[EndUserUsage] | None
    budgets: list[Budget]
    in_flight: int
    max_in_flight: int | None

    @property
    def in_flight_remaining(self) -> int | None:
        return None if self.max_in_flight is None else max(self.max_in_flight - self.in_flight, 0)


def person_end_user_id(*, user_id: int) -> str:
    """The ``portal:<uuid>`` end_user_id a person's portal runs carry."""
    person, _ = Person.objects.get_or_create(user_id=user_id)
    return person.end_user_id


def usage_overview(
    *, tenant: Tenant, end_user_id: str | None, include_end_users: bool, now: datetime | None = None
) -> UsageOverview:
    """This month's ledger for the tenant, or for one end user when ``end_user_id`` is set."""
    start, end = month_bounds(now or timezone.now())
    by_day = usage_summary(
        tenant=tenant, start=start, end=end, group_by="day", end_user_id=end_user_id
    )
    end_users = None
    if include_end_users:
        groups = usage_summary(tenant=tenant, start=start, end=end, group_by="end_user_id").groups
        labels = end_user_labels(tenant=tenant, end_user_ids=[group.key for group in groups])
        end_users = [
            EndUserUsage(end_user_id=group.key, label=labels[group.key], usage=group)
            for group in sorted(groups, key=lambda group: group.amount, reverse=True)
        ]
    billing = tenant_billing(tenant=tenant)
    in_flight = RunCharge.objects.for_tenant(tenant).filter(state=RunCharge.State.RESERVED)
    if end_user_id is None:
        status = spend_status(tenant=tenant)
        budgets = [_budget("Tenant, this month", status.spent, status.cap)]
    else:
        status = spend_status(tenant=tenant, end_user_id=end_user_id)
        budgets = [_budget("You, this month", status.spent, status.cap)]
        in_flight = in_flight.filter(end_user_id=end_user_id)
    return UsageOverview(
        start=start,
        end=end,
        totals=by_day.totals,
        days=by_day.groups,
        end_users=end_users,
        budgets=budgets,
        in_flight=in_flight.count(),
        max_in_flight=billing.max_in_flight_runs if billing else None,
    )


def end_user_labels(*, tenant: Tenant, end_user_ids: list[str]) -> dict[str, str]:
    """Readable names: a portal person's username (only for this tenant's members), else
    the tenant app's own id."""
    public_ids: dict[uuid.UUID, str] = {}
    for end_user_id in end_user_ids:
        if end_user_id.startswith(PORTAL_PREFIX):
            try:
                public_ids[uuid.UUID(end_user_id.removeprefix(PORTAL_PREFIX))] = end_user_id
            except ValueError:
                continue
    names = {
        public_ids[person.public_id]: f"{person.user.get_username()} (portal)"
        for person in Person.objects.filter(
            public_id__in=public_ids, user__memberships__tenant=tenant
        ).select_related("user")
    }
    return {
        end_user_id: names.get(end_user_id) or end_user_id or "(no end user)"
        for end_user_id in end_user_ids
    }


def _budget(label: str, spent: Decimal, cap: Decimal | None) -> Budget:
    remaining = None if cap is None else max(cap - spent, Decimal(0))
    return Budget(label=label, spent=spent, cap=cap, remaining=remaining)


def days_of_month(start: datetime) -> list[date]:
    first = start.date()
    _, end = month_bounds(start)
    return [first.replace(day=day) for day in range(1, (end.date() - first).days + 1)]


def tenant_caps_update(
    *,
    tenant: Tenant,
    monthly_spend_cap: Decimal | None,
    max_in_flight_runs: int | None,
    end_user_monthly_spend_cap: Decimal | None,
    actor: Actor,
    reason: str = "",
) -> TenantBilling:
    """Set the tenant's caps (None: no cap) under the same row lock admission takes; the
    audit entry names each cap that changed, before and after."""
    for value in (monthly_spend_cap, max_in_flight_runs, end_user_monthly_spend_cap):
        if value is not None and value < 0:
            raise ValueError("A cap cannot be negative.")
    caps = {
        "monthly_spend_cap": monthly_spend_cap,
        "max_in_flight_runs": max_in_flight_runs,
        "end_user_monthly_spend_cap": end_user_monthly_spend_cap,
    }
    with transaction.atomic():
        billing = tenant_billing_for_update(tenant)
        before = {name: getattr(billing, name) for name in caps}
        for name, value in caps.items():
            setattr(billing, name, value)
        billing.save(update_fields=[*caps, "updated_at"])
        record_caps_changed(tenant=tenant, before=before, after=caps, actor=actor, reason=reason)
        cap_notices_check(tenant=tenant, at=timezone.now())
    return billing


def record_caps_changed(
    *,
    tenant: Tenant,
    before: Mapping[str, object],
    after: Mapping[str, object],
    actor: Actor,
    reason: str,
) -> None:
    """The ``cap.changed`` entry, when any cap moved (the portal's form or staff's admin)."""
    if diff := changes(before, after):
        audit_record(
            action=Action.CAP_CHANGED,
            actor=actor,
            tenant=tenant,
            target=", ".join(diff),
            reason=reason,
            details=diff,
        )


def end_user_limit_set(
    *, tenant: Tenant, end_user_id: str, monthly_spend_cap: Decimal, actor: Actor
) -> EndUserLimit:
    if monthly_spend_cap < 0:
        raise ValueError("A cap cannot be negative.")
    with transaction.atomic():
        previous = (
            EndUserLimit.objects.for_tenant(tenant)
            .select_for_update()
            .filter(end_user_id=end_user_id)
            .values_list("monthly_spend_cap", flat=True)
            .first()
        )
        limit, _ = EndUserLimit.objects.update_or_create(
            tenant=tenant,
            end_user_id=end_user_id,
            defaults={"monthly_spend_cap": monthly_spend_cap},
        )
        audit_record(
            action=Action.END_USER_LIMIT_SET,
            actor=actor,
            tenant=tenant,
            target=end_user_id,
            details=changes(
                {"monthly_spend_cap": previous}, {"monthly_spend_cap": monthly_spend_cap}
            ),
        )
        cap_notices_check(tenant=tenant, at=timezone.now(), end_user_ids=[end_user_id])
    return limit


def end_user_limit_remove(*, tenant: Tenant, limit_id: int, actor: Actor) -> None:
    """Remove one of the tenant's overrides; another tenant's id is DoesNotExist."""
    with transaction.atomic():
        limit = EndUserLimit.objects.for_tenant(tenant).select_for_update().get(pk=limit_id)
        limit.delete()
        audit_record(
            action=Action.END_USER_LIMIT_REMOVED,
            actor=actor,
            tenant=tenant,
            target=limit.end_user_id,
            details={"monthly_spend_cap": {"before": str(limit.monthly_spend_cap), "after": None}},
        )
        cap_notices_check(tenant=tenant, at=timezone.now(), end_user_ids=[limit.end_user_id])


@dataclass(frozen=True)
class InvoiceComparison:
    """The ledger's invoice lines for a period beside Stripe's own (None: not asked or
    not answered), so a tenant admin sees that both say the same money."""

    lines: list[InvoiceLine]
    stripe_cents: dict[tuple[str, Decimal], int] | None
    stripe_error: str = ""

    @property
    def ledger_total(self) -> Decimal:
        return Decimal(sum(line.cents for line in self.lines)).scaleb(-2)

    @property
    def stripe_total(self) -> Decimal | None:
        if self.stripe_cents is None:
            return None
        return Decimal(sum(self.stripe_cents.values())).scaleb(-2)

    @property
    def rows(self) -> list[tuple[InvoiceLine, Decimal | None]]:
        """Each ledger line with Stripe's amount for it (None: Stripe not asked)."""
        if self.stripe_cents is None:
            return [(line, None) for line in self.lines]
        return [
            (line, Decimal(self.stripe_cents.get((line.resolution, line.unit_price), 0)).scaleb(-2))
            for line in self.lines
        ]


def invoice_comparison(
    *, tenant: Tenant, client: stripe.StripeClient | None, now: datetime | None = None
) -> InvoiceComparison:
    """This period's lines from the ledger, and (given a client) from Stripe's preview."""
    now = now or timezone.now()
    start, end = month_bounds(now)
    lines = ledger_invoice_lines(tenant=tenant, start=start, end=end)
    billing = tenant_billing(tenant=tenant)
    if client is None or billing is None or not billing.stripe_subscription_id:
        return InvoiceComparison(lines=lines, stripe_cents=None)
    try:
        stripe_cents = invoice_line_cents_by_rate(client, billing, start, now)
    except stripe.StripeError as exc:
        return InvoiceComparison(lines=lines, stripe_cents=None, stripe_error=str(exc))
    return InvoiceComparison(lines=lines, stripe_cents=stripe_cents)
