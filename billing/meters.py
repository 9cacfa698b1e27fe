"""Pushing the ledger to Stripe as meter events: every row once, none lost.

A batch is leased with a short transaction (SKIP LOCKED on PostgreSQL) so parallel
pushers share the work; a worker killed mid-batch leaves its rows to come due again. What
a row sends (meter, timestamp, identifier, idempotency key) is written on it before it is
sent, so a resend is the same event and Stripe's dedupe on the identifier makes it count
once. Stripe's acceptance is not billing: it validates later, and reconciliation
(``billing.reconcile``) checks what it counted. Stripe dedupes for about 24 h only, so a
row first sent 20 h ago is never resent automatically.
"""

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

import stripe
from django.db import transaction
from django.db.models import CharField, F, Q, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from billing.autoprovision import provision_due_tenants, provision_soon
from billing.conf import setting, stripe_enabled
from billing.meter_send import LiveItem, send_rows
from billing.models import RunCharge, SubscriptionItem, TenantBilling, UsageRecord
from billing.periods import event_timestamp_for, period_of
from billing.stripe_client import stripe_client

logger = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)
SUBSCRIBED = (
    TenantBilling.SubscriptionStatus.ACTIVE,
    TenantBilling.SubscriptionStatus.TRIALING,
    TenantBilling.SubscriptionStatus.PAST_DUE,
    TenantBilling.SubscriptionStatus.UNPAID,
)
Pushed = UsageRecord.PushState


@dataclass
class PushReport:
    accepted: int = 0
    retrying: int = 0
    held: int = 0
    needs_attention: int = 0


def push_pending_usage(
    *, client: stripe.StripeClient | None = None, now: datetime | None = None
) -> PushReport:
    now = now or timezone.now()
    report = PushReport()
    if client is None and not stripe_enabled():
        return report  # the ledger keeps filling; rows go out once a key is set
    report.needs_attention += _flag_rows_stripe_would_refuse(now)
    client = client or stripe_client()
    if setting("AUTO_PROVISION"):
        provision_due_tenants(client, now=now)
    _release_held_rows(now)
    rows = _lease_due_rows(now)
    items = _live_items({row.tenant_id for row in rows})
    sendable = []
    for row in rows:
        item = items.get((row.tenant_id, row.resolution, row.unit_price))
        if item is None:
            _hold(row, "No subscription item for this price yet: provisioning will add it.")
            provision_soon([row.tenant_id])
            report.held += 1
        else:
            sendable.append((row, item))
    _pin_events(sendable, now)
    accepted = []
    for row, outcome in send_rows(client, sendable):
        if outcome is None:
            accepted.append(row.pk)
            report.accepted += 1
        elif isinstance(outcome, stripe.InvalidRequestError):
            _needs_attention(row, f"Stripe refused the event: {outcome.user_message or outcome}")
            report.needs_attention += 1
        else:
            _retry_later(row, outcome)  # first_sent_at bounds how long a resend stays safe
            report.retrying += 1
    # One write for the batch: if we die before it, those rows are resent and Stripe's
    # duplicate-identifier answer settles them then. An error report may have flagged a
    # row refused since its 200 (Stripe validates within seconds): that must stand.
    UsageRecord.objects.filter(pk__in=accepted).exclude(push_state=Pushed.REFUSED).update(
        push_state=Pushed.CONFIRMED,
        confirmed_at=timezone.now(),
        push_attempts=F("push_attempts") + 1,
        last_push_error="",
    )
    if report != PushReport():
        logger.info("Usage push: %s", report)
    return report


def _live_items(tenant_ids: set[int]) -> dict[tuple[int, str, Decimal], LiveItem]:
    """Per (tenant, resolution, unit price): the item on the tenant's live subscription."""
    billing = {
        b.tenant_id: b
        for b in TenantBilling.objects.filter(
            tenant_id__in=tenant_ids,
            stripe_customer_id__isnull=False,
            subscription_status__in=SUBSCRIBED,
        ).exclude(stripe_subscription_id="")
    }
    items = SubscriptionItem.objects.select_related("metered_price").filter(
        tenant_id__in=billing,
        subscription_id__in=[b.stripe_subscription_id for b in billing.values()],
        retired_at__isnull=True,
    )
    return {
        (item.tenant_id, item.metered_price.resolution, item.metered_price.unit_price): LiveItem(
            metered_price_id=item.metered_price_id,
            event_name=item.metered_price.event_name,
            customer_id=str(billing[item.tenant_id].stripe_customer_id),
            added_at=item.added_at,
        )
        for item in items
        if item.subscription_id == billing[item.tenant_id].stripe_subscription_id
    }


def _pin_events(sendable: list[tuple[UsageRecord, LiveItem]], now: datetime) -> None:
    """Fix what each attempt sends, on its row, before anything is sent: a crash then
    resends the same event. The first send picks a timestamp Stripe will still bill;
    every later send repeats it. A handful of statements per batch, not one per row."""
    pks = [row.pk for row, _ in sendable]
    UsageRecord.objects.filter(pk__in=pks).update(
        idempotency_key=Concat(
            F("identifier"), Value("/"), Cast(F("push_attempts") + 1, CharField())
        )
    )
    first = [(row, item) for row, item in sendable if row.first_sent_at is None]
    by_price: dict[int, list[int]] = {}
    for row, item in first:
        by_price.setdefault(item.metered_price_id, []).append(row.pk)
    for metered_price_id, rows in by_price.items():
        UsageRecord.objects.filter(pk__in=rows).update(
            first_sent_at=now, metered_price_id=metered_price_id
        )
    for row, item in first:
        moved = event_timestamp_for(row.event_timestamp, now=now, not_before=item.added_at)
        if moved != row.event_timestamp:  # rare: a closed period, or an item added later
            UsageRecord.objects.filter(pk=row.pk).update(event_timestamp=moved)
            if period_of(moved) != period_of(row.event_timestamp):  # the caps follow the bill
                RunCharge.objects.filter(run_id=row.run_id).update(period=period_of(moved))
        row.first_sent_at, row.metered_price_id, row.event_timestamp = (
            now,
            item.metered_price_id,
            moved,
        )
    for row, _ in sendable:
        row.idempotency_key = f"{row.identifier}/{row.push_attempts + 1}"


def _lease_due_rows(now: datetime) -> list[UsageRecord]:
    with transaction.atomic():
        rows = list(
            UsageRecord.objects.select_for_update(skip_locked=True)
            .filter(push_state=Pushed.PENDING, next_push_at__lte=now)
            .order_by("next_push_at")[: int(setting("PUSH_BATCH_SIZE"))]
        )
        UsageRecord.objects.filter(pk__in=[row.pk for row in rows]).update(next_push_at=now + LEASE)
    return rows


def _flag_rows_stripe_would_refuse(now: datetime) -> int:
    """Sent 20 h ago and still unsettled, or too old for Stripe's window: a human."""
    too_old = now - timedelta(days=int(setting("METER_EVENT_MAX_AGE_DAYS")))
    sent_before = now - timedelta(seconds=int(setting("UNKNOWN_OUTCOME_ATTENTION_SECONDS")))
    stale = UsageRecord.objects.filter(push_state__in=[Pushed.PENDING, Pushed.HELD]).filter(
        Q(first_sent_at__lt=sent_before)
        | Q(first_sent_at__isnull=False, event_timestamp__lt=too_old)
    )
    return stale.update(
        push_state=Pushed.NEEDS_ATTENTION,
        last_push_error=(
            "First sent over 20 h ago without a settled answer (Stripe dedupes for about "
            "24 h), or older than Stripe's 35 days: reconciliation or a person decides."
        ),
    )


def _release_held_rows(now: datetime) -> int:
    """Held rows go out again once their price's item is on a live subscription."""
    held = list(
        UsageRecord.objects.filter(push_state=Pushed.HELD).only(
            "pk", "tenant_id", "resolution", "unit_price"
        )
    )
    items = _live_items({row.tenant_id for row in held})
    ready = [row.pk for row in held if (row.tenant_id, row.resolution, row.unit_price) in items]
    return UsageRecord.objects.filter(pk__in=ready, push_state=Pushed.HELD).update(
        push_state=Pushed.PENDING, next_push_at=now
    )


def _hold(row: UsageRecord, reason: str) -> None:
    UsageRecord.objects.filter(pk=row.pk, push_state=Pushed.PENDING).update(
        push_state=Pushed.HELD, last_push_error=reason
    )


def _needs_attention(row: UsageRecord, reason: str) -> None:
    logger.error("Usage row %s needs a human: %s", row.identifier, reason)
    UsageRecord.objects.filter(pk=row.pk).update(
        push_state=Pushed.NEEDS_ATTENTION,
        push_attempts=F("push_attempts") + 1,
        last_push_error=reason[:2000],
    )


def _retry_later(row: UsageRecord, exc: Exception) -> None:
    attempts = row.push_attempts + 1
    ceiling = min(float(setting("PUSH_MAX_BACKOFF_SECONDS")), 5.0 * 2**attempts)
    delay = timedelta(seconds=random.uniform(ceiling / 2, ceiling))  # noqa: S311
    UsageRecord.objects.filter(pk=row.pk).update(
        push_attempts=attempts,
        next_push_at=timezone.now() + delay,
        last_push_error=f"{type(exc).__name__}: {exc}"[:2000],
    )
