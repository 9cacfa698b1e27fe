"""``usage.cap.warning`` and ``usage.cap.reached``: told once per period and cap, as a
webhook event, an e-mail to the tenant's admins and a banner on the usage page.

Spend is what the cap check counts: the period's reservations plus settled amounts, the
run being admitted included. The warning fires once spend is at least 80% of the cap; the
cap is *reached* once it admits no further run: spend is at least the cap, or the room
left is less than the cheapest run one could ask for (4 s at the lowest price). A refused
create adds no spend, so it is reached by the admission before it, or by the cap change
that put the cap under the spend (a refusal of a long run with room left for a shorter
one is not the cap reached). Spend only falls later (a run settles at or below its
reservation, or is released): a notice stays fired for its period however spend moves.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_FLOOR, Decimal
from functools import cache, partial

from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.template.loader import render_to_string

from billing.models import CapNotice, EndUserLimit, RunCharge, TenantBilling
from billing.periods import period_of
from billing.pricing import MIN_SECONDS, amount_for, unit_price
from billing.selectors import CURRENCY
from seedance.models import Tenant
from seedance.run_input import RESOLUTIONS
from seedance.selectors import tenant_admin_emails
from seedance.webhooks.events import webhook_event_record

WARNING_SHARE = Decimal("0.8")
EVENT_TYPES = {
    CapNotice.Threshold.WARNING: "usage.cap.warning",
    CapNotice.Threshold.REACHED: "usage.cap.reached",
}


@dataclass(frozen=True)
class CapSpend:
    """One cap and the period's spend counted against it."""

    kind: str
    end_user_id: str
    cap: Decimal
    spend: Decimal


def thresholds_met(
    spend: Decimal,
    cap: Decimal,
    cheapest_run: Callable[[], Decimal],
    among: Iterable[CapNotice.Threshold] = tuple(CapNotice.Threshold),
) -> list[CapNotice.Threshold]:
    """Which of ``among`` this spend has met (``cheapest_run`` is only asked when needed)."""
    met: list[CapNotice.Threshold] = []
    for threshold in among:
        if threshold == CapNotice.Threshold.WARNING:
            if cap > 0 and spend >= cap * WARNING_SHARE:
                met.append(threshold)
        elif spend >= cap or cap - spend < cheapest_run():
            met.append(threshold)
    return met


def cheapest_run_amount(*, tenant: Tenant, at: datetime) -> Decimal:
    """The least a run created at ``at`` may reserve: the shortest duration, cheapest price."""
    return min(
        amount_for(MIN_SECONDS, unit_price(tenant=tenant, resolution=resolution, at=at))
        for resolution in RESOLUTIONS
    )


def cap_notices_record(
    *, tenant: Tenant, period: date, caps: Iterable[CapSpend], at: datetime
) -> list[CapNotice]:
    """Record every threshold newly met, each with its webhook event, and mail the admins
    after commit. Call inside the transaction that changed spend or a cap, with the
    tenant's billing row locked; the unique constraint keeps a racing caller to one."""
    caps = list(caps)
    if not caps:
        return []
    fired = set(
        CapNotice.objects.for_tenant(tenant)
        .filter(period=period)
        .values_list("kind", "end_user_id", "threshold")
    )
    cheapest = cache(partial(cheapest_run_amount, tenant=tenant, at=at))
    made = []
    for cap in caps:
        pending = [t for t in CapNotice.Threshold if (cap.kind, cap.end_user_id, t) not in fired]
        for threshold in thresholds_met(cap.spend, cap.cap, cheapest, pending):
            notice = _notice_create(tenant=tenant, period=period, cap=cap, threshold=threshold)
            if notice is not None:
                webhook_event_record(tenant, EVENT_TYPES[threshold], data=notice_data(notice))
                transaction.on_commit(partial(cap_notice_mail, notice.pk), robust=True)
                made.append(notice)
    return made


def cap_notices_check(
    *, tenant: Tenant, at: datetime, end_user_ids: Iterable[str] = ()
) -> list[CapNotice]:
    """After a cap changed: the thresholds the period's spend already meets under the caps
    now set, for the tenant and each end user with spend this period (or named)."""
    billing = TenantBilling.objects.filter(pk=tenant.pk).first()
    if billing is None:
        return []
    period = period_of(at)
    charges = RunCharge.objects.for_tenant(tenant).filter(period=period)
    caps = []
    if billing.monthly_spend_cap is not None:
        spend = charges.aggregate(total=Sum("amount"))["total"] or Decimal(0)
        caps.append(CapSpend(CapNotice.Kind.TENANT, "", billing.monthly_spend_cap, spend))
    spends = dict.fromkeys((end_user_id for end_user_id in end_user_ids if end_user_id), Decimal(0))
    spends.update(
        charges.exclude(end_user_id="")
        .values_list("end_user_id")
        .annotate(total=Sum("amount"))
        .values_list("end_user_id", "total")
    )
    overrides = dict(
        EndUserLimit.objects.for_tenant(tenant)
        .filter(end_user_id__in=spends)
        .values_list("end_user_id", "monthly_spend_cap")
    )
    for end_user_id, spend in spends.items():
        cap = overrides.get(end_user_id, billing.end_user_monthly_spend_cap)
        if cap is not None:
            caps.append(CapSpend(CapNotice.Kind.END_USER, end_user_id, cap, spend))
    return cap_notices_record(tenant=tenant, period=period, caps=caps, at=at)


def _notice_create(
    *, tenant: Tenant, period: date, cap: CapSpend, threshold: CapNotice.Threshold
) -> CapNotice | None:
    try:
        with transaction.atomic():
            return CapNotice.objects.create(
                tenant=tenant,
                period=period,
                kind=cap.kind,
                end_user_id=cap.end_user_id,
                threshold=threshold,
                cap=cap.cap,
                spend=cap.spend,
            )
    except IntegrityError:
        return None  # a concurrent caller recorded it first


def spend_percent(notice: CapNotice) -> int:
    """Whole percent, rounded down, so 79.99% never reads as 80."""
    if notice.cap <= 0:
        return 100
    return int((notice.spend * 100 / notice.cap).to_integral_value(rounding=ROUND_FLOOR))


def notice_data(notice: CapNotice) -> dict[str, object]:
    """The event's data: amounts are strings with six decimals, as in the usage API."""
    return {
        "kind": notice.kind,
        "end_user_id": notice.end_user_id,
        "threshold": notice.threshold,
        "cap": f"{notice.cap:.6f}",
        "spend": f"{notice.spend:.6f}",
        "percent": spend_percent(notice),
        "period": notice.period.strftime("%Y-%m"),
        "currency": CURRENCY,
    }


def cap_notice_mail(notice_id: int) -> int:
    """E-mail every admin of the notice's tenant; how many messages were sent."""
    notice = CapNotice.objects.select_related("tenant").get(pk=notice_id)
    recipients = tenant_admin_emails(tenant=notice.tenant)
    if not recipients:
        return 0
    context = {"notice": notice, "tenant": notice.tenant, "percent": spend_percent(notice)}
    subject = render_to_string("billing/email/cap_notice_subject.txt", context).strip()
    body = render_to_string("billing/email/cap_notice.txt", context)
    return send_mail(subject, body, None, recipients)
