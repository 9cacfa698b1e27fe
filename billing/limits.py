"""Admission: a run is reserved against its tenant's caps in the create's transaction.

The tenant's billing row is locked first, so parallel creates of one tenant queue behind
each other and every cap check sees every reservation made before it: caps hold however
many requests arrive at once. SQLite's IMMEDIATE transactions give the same order.
"""

from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import QuerySet, Sum
from django.urls import NoReverseMatch, reverse

from billing.cap_notices import CapSpend, cap_notices_record
from billing.conf import setting
from billing.models import CapNotice, RunCharge, TenantBilling
from billing.periods import period_of
from billing.pricing import amount_for, unit_price, worst_case_seconds
from billing.selectors import end_user_cap_of, payment_method_status
from seedance.exceptions import BudgetExceeded, ConcurrencyLimitExceeded, PaymentRequired
from seedance.models import Run, Tenant

BLOCKING_STATUSES = (
    TenantBilling.SubscriptionStatus.PAST_DUE,
    TenantBilling.SubscriptionStatus.UNPAID,
    TenantBilling.SubscriptionStatus.CANCELED,
    TenantBilling.SubscriptionStatus.INCOMPLETE_EXPIRED,
)
CONCURRENCY_RETRY_AFTER_SECONDS = 10


def admit_run(*, run: Run) -> RunCharge:
    """seedance's admission hook: check every cap, reserve the run's worst case, and tell
    the tenant of each cap threshold this reservation met (billing.cap_notices)."""
    billing = tenant_billing_for_update(run.tenant)
    if setting("ENFORCE_SUBSCRIPTION") and billing.subscription_status in BLOCKING_STATUSES:
        raise PaymentRequired(
            f"The subscription is {billing.subscription_status}: settle the invoice to "
            "create runs again.",
            code=f"subscription_{billing.subscription_status}",
        )
    price = unit_price(tenant=run.tenant, resolution=run.resolution, at=run.created_at)
    reserved = amount_for(worst_case_seconds(run.duration), price)
    _check_payment_method(billing, run.tenant, reserved)
    period = period_of(run.created_at)
    charges = RunCharge.objects.filter(tenant=run.tenant)

    if billing.max_in_flight_runs is not None:
        in_flight = charges.filter(state=RunCharge.State.RESERVED).count()
        if in_flight >= billing.max_in_flight_runs:
            raise ConcurrencyLimitExceeded(
                f"At most {billing.max_in_flight_runs} runs may be in flight at once.",
                code="tenant_concurrency_cap",
                retry_after=CONCURRENCY_RETRY_AFTER_SECONDS,
            )
    caps = []
    if billing.monthly_spend_cap is not None:
        spend = _check_budget(
            charges.filter(period=period),
            reserved,
            billing.monthly_spend_cap,
            code="tenant_monthly_spend_cap",
            who="This tenant",
        )
        caps.append(CapSpend(CapNotice.Kind.TENANT, "", billing.monthly_spend_cap, spend))
    end_user_cap = end_user_cap_of(billing, run.end_user_id)
    if end_user_cap is not None:
        spend = _check_budget(
            charges.filter(period=period, end_user_id=run.end_user_id),
            reserved,
            end_user_cap,
            code="end_user_monthly_spend_cap",
            who=f"End user {run.end_user_id!r}",
        )
        caps.append(CapSpend(CapNotice.Kind.END_USER, run.end_user_id, end_user_cap, spend))
    charge = RunCharge.objects.create(
        run=run,
        tenant=run.tenant,
        end_user_id=run.end_user_id,
        resolution=run.resolution,
        unit_price=price,
        amount=reserved,
        period=period,
    )
    cap_notices_record(tenant=run.tenant, period=period, caps=caps, at=run.created_at)
    return charge


def tenant_billing_for_update(tenant: Tenant) -> TenantBilling:
    """The tenant's billing row, created on first use, locked until the transaction ends.

    The lock is asked first: the row exists for every tenant but a new one, so a create
    costs one statement here, not an existence check before it."""
    billing = TenantBilling.objects.select_for_update().filter(pk=tenant.pk).first()
    if billing is not None:
        return billing
    try:
        with transaction.atomic():
            TenantBilling.objects.create(tenant=tenant)
    except IntegrityError:
        pass  # created by a concurrent request; lock theirs below
    return TenantBilling.objects.select_for_update().get(pk=tenant.pk)


def _check_payment_method(billing: TenantBilling, tenant: Tenant, reserved: Decimal) -> None:
    status = payment_method_status(billing=billing, tenant=tenant)
    if status.refuses(reserved):
        left = max(status.allowance - status.used, Decimal(0))
        message = "Add a payment method to create runs."
        if status.allowance > 0:
            message = (
                f"Add a payment method to create more runs: without one this account may use "
                f"{status.allowance:.2f} USD in all ({left:.2f} USD left), and this run may "
                f"cost up to {reserved:.2f} USD."
            )
        raise PaymentRequired(
            message,
            code="payment_method_required",
            action_url=_billing_page(),
            action_label="Add a payment method",
        )


def _billing_page() -> str:
    """Where an admin adds a card, when this project serves billing's portal pages."""
    try:
        return reverse("billing_portal:billing")
    except NoReverseMatch:
        return ""


def _check_budget(
    charges: "QuerySet[RunCharge]", reserved: Decimal, cap: Decimal, *, code: str, who: str
) -> Decimal:
    """The period's spend once ``reserved`` is added, or BudgetExceeded if it passes ``cap``."""
    spent = charges.aggregate(total=Sum("amount"))["total"] or Decimal(0)
    if spent + reserved > cap:
        raise BudgetExceeded(
            f"{who} has {max(cap - spent, Decimal(0)):.2f} USD left of its {cap:.2f} USD "
            f"monthly cap; this run may cost up to {reserved:.2f} USD.",
            code=code,
        )
    return spent + reserved
