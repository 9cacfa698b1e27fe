"""billing's section of ``manage.py runs_doctor``: money held, the usage push, open
reconciliation differences and Stripe's reachability. Registered in ``BillingConfig.ready()``
through ``seedance.doctor.registry.register_section``; seedance never imports it."""

from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal

import stripe
from django.db.models import QuerySet, Sum

from billing.conf import stripe_enabled
from billing.models import BillingDifference, RunCharge, UsageRecord
from billing.stripe_client import stripe_client
from seedance.doctor.findings import (
    Context,
    Finding,
    Section,
    Severity,
    admin_page,
    ok,
    plain,
    shown,
)
from seedance.states import RunStatus

Pushed = UsageRecord.PushState
#: The push runs every minute and leases a batch for two: later than this is not a hiccup.
PUSH_GRACE = timedelta(minutes=5)
STRIPE_TIMEOUT_SECONDS = 5.0


def _total(rows: "QuerySet[RunCharge] | QuerySet[UsageRecord]") -> str:
    return plain(rows.aggregate(total=Sum("amount"))["total"] or Decimal(0))


def _tenants(rows: "QuerySet[RunCharge] | QuerySet[UsageRecord]") -> tuple[str, ...]:
    return shown(rows.order_by("tenant__slug").values_list("tenant__slug", flat=True).distinct())


def _held_money(now: datetime) -> Iterator[Finding]:
    reserved = RunCharge.objects.filter(state=RunCharge.State.RESERVED)
    unsettled = reserved.filter(run__status__in=RunStatus.terminal())
    if ids := list(unsettled.values_list("run_id", flat=True)):
        yield Finding(
            "billing.unsettled_reservations",
            Severity.PROBLEM,
            f"{len(ids)} reservation(s) (USD {_total(unsettled)}) still held though their runs "
            "ended: their run_finished receiver never settled them.",
            todo=(
                "Settle each (idempotent) in `manage.py shell`: "
                "`billing.ledger.usage_record_for_run(Run.objects.get(pk=...))`, and report it."
            ),
            count=len(ids),
            items=shown(ids),
            details={"amount_usd": _total(unsettled)},
        )
    overdue = reserved.filter(run__status__in=RunStatus.in_progress(), run__deadline_at__lt=now)
    if ids := list(overdue.order_by("created_at").values_list("run_id", flat=True)):
        yield Finding(
            "billing.overdue_reservations",
            Severity.WARNING,
            f"USD {_total(overdue)} reserved for {len(ids)} run(s) past their deadline; it counts "
            "against their tenants' caps until they end or reach their hard limit.",
            todo="See the runs section (flagged or stuck runs): the money follows the run.",
            count=len(ids),
            items=shown(ids),
            details={"amount_usd": _total(overdue)},
        )
    waiting = UsageRecord.objects.filter(push_state=Pushed.WAITING)
    if count := waiting.count():
        yield Finding(
            "billing.waiting_for_review",
            Severity.WARNING,
            f"USD {_total(waiting)} of usage waits for the review of {count} held video(s).",
            todo=f"Review them: {admin_page('admin:seedance_run_review')}.",
            count=count,
            items=_tenants(waiting),
            details={"amount_usd": _total(waiting)},
        )
    held = UsageRecord.objects.filter(push_state=Pushed.HELD)
    if count := held.count():
        yield Finding(
            "billing.held_usage",
            Severity.WARNING,
            f"USD {_total(held)} of usage ({count} row(s)) held: no Stripe subscription item "
            "for its price yet.",
            todo=(
                "Provisioning adds the items (`manage.py stripe_provision`); each tenant's held "
                f"amount: {admin_page('admin:billing_tenantbilling_changelist')}."
            ),
            count=count,
            items=_tenants(held),
            details={"amount_usd": _total(held)},
        )
    if not any(rows.exists() for rows in (unsettled, overdue, waiting, held)):
        yield ok(
            "billing.held_money",
            f"No money held beyond the reservations of {reserved.count()} run(s) in flight.",
        )


def _usage_push(now: datetime) -> Iterator[Finding]:
    rows = UsageRecord.objects.all()
    page = "admin:billing_usagerecord_changelist"
    found = False
    for state, code, what, todo in (
        (
            Pushed.REFUSED,
            "billing.push_refused",
            "refused by Stripe after it accepted them (a meter error report)",
            "Fix the cause the meter error report names, then resend them with the "
            f"'Resend refused rows' action: {admin_page(page, 'push_state__exact=refused')}.",
        ),
        (
            Pushed.NEEDS_ATTENTION,
            "billing.push_needs_attention",
            "that the push will not send on its own (too old for Stripe, or sent long ago "
            "with an unknown outcome)",
            "Read each row's last push error and settle it with Stripe by hand: "
            f"{admin_page(page, 'push_state__exact=needs_attention')}.",
        ),
    ):
        selected = rows.filter(push_state=state)
        if count := selected.count():
            found = True
            yield Finding(
                code,
                Severity.PROBLEM,
                f"{count} usage row(s) (USD {_total(selected)}) {what}.",
                todo=todo,
                count=count,
                items=_tenants(selected),
                details={"amount_usd": _total(selected)},
            )
    overdue = rows.filter(push_state=Pushed.PENDING, next_push_at__lt=now - PUSH_GRACE)
    if count := overdue.count():
        found = True
        yield Finding(
            "billing.push_overdue",
            Severity.PROBLEM if stripe_enabled() else Severity.WARNING,
            f"{count} usage row(s) (USD {_total(overdue)}) due for Stripe for minutes and not sent"
            + ("." if stripe_enabled() else ": STRIPE_API_KEY is not set."),
            todo=(
                "Check that the `billing.push-usage` schedule runs in a qcluster worker (its "
                "failures are under failed tasks), or push now with `manage.py push_usage`."
                if stripe_enabled()
                else "Set STRIPE_API_KEY: the rows go out on the next push."
            ),
            count=count,
            items=_tenants(overdue),
            details={"amount_usd": _total(overdue)},
        )
    if not found:
        yield ok("billing.usage_push", "The usage push is keeping up.")


def _differences() -> Iterator[Finding]:
    open_ = BillingDifference.objects.filter(state=BillingDifference.State.OPEN).select_related(
        "tenant"
    )
    rows = [
        f"{d.tenant.slug} {d.period:%Y-%m} {d.kind}: ledger {d.ledger_value.normalize():f} "
        f"vs Stripe {d.stripe_value.normalize():f}"
        for d in open_.order_by("detected_at")
    ]
    if not rows:
        yield ok("billing.differences", "No open reconciliation difference.")
        return
    yield Finding(
        "billing.differences",
        Severity.PROBLEM,
        f"{len(rows)} reconciliation difference(s) between Stripe and the ledger are open.",
        todo=(
            "Each says what to do: "
            f"{admin_page('admin:billing_billingdifference_changelist', 'state__exact=open')}; "
            "then `manage.py billing_reconcile` checks again."
        ),
        count=len(rows),
        items=shown(rows),
    )


def _stripe(context: Context) -> Iterator[Finding]:
    if context.offline:
        yield Finding(
            "billing.stripe", Severity.OK, "Not checked (--offline).", details={"skipped": True}
        )
        return
    if not stripe_enabled():
        yield Finding(
            "billing.stripe",
            Severity.OK,
            "Not checked: Stripe is not configured (STRIPE_API_KEY), usage stays in the ledger.",
            details={"skipped": True},
        )
        return
    try:
        stripe_client(timeout=STRIPE_TIMEOUT_SECONDS).v1.billing.meters.list(params={"limit": 1})
    except stripe.AuthenticationError as error:
        yield Finding(
            "billing.stripe",
            Severity.PROBLEM,
            f"Stripe refused our key: {error.user_message or error}",
            todo="Check STRIPE_API_KEY (a current secret or restricted key of the account).",
        )
    except stripe.StripeError as error:
        yield Finding(
            "billing.stripe",
            Severity.PROBLEM,
            f"Stripe did not answer: {type(error).__name__}: {error.user_message or error}",
            todo=(
                "Usage waits in the ledger and goes out once Stripe answers; check the network "
                "and status.stripe.com. `seedance_stripe_errors_total` shows since when."
            ),
        )
    else:
        yield ok("billing.stripe", "Stripe answered.")


def billing_section(context: Context) -> Section:
    findings = (
        *_held_money(context.now),
        *_usage_push(context.now),
        *_differences(),
        *_stripe(context),
    )
    return Section(name="billing", title="Billing", findings=findings)
