"""Pushing the ledger to Stripe as meter events: every row once, none lost.

A batch is leased with a short transaction (SKIP LOCKED on PostgreSQL) so parallel
pushers share the work; a worker killed mid-batch leaves its rows to come due again. A
resend is safe because Stripe dedupes on the row's identifier, and a duplicate answer
means "already recorded". Stripe dedupes for about 24 h only, so a row whose outcome has
stayed unknown for 20 h goes to a human instead of being resent.
"""

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

import stripe
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from billing.conf import setting, stripe_enabled
from billing.models import StripeMeter, TenantBilling, UsageRecord
from billing.provisioning import stripe_provision
from billing.stripe_client import stripe_client
from seedance.models import Tenant

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
    confirmed: int = 0
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
    _release_held_rows(now)
    rows = _lease_due_rows(now)
    if not rows:
        return report
    client = client or stripe_client()
    if setting("AUTO_PROVISION"):
        _provision_on_demand(client, {row.tenant_id for row in rows})
    meters = {m.resolution: m.event_name for m in StripeMeter.objects.all()}
    billing = {
        b.tenant_id: b
        for b in TenantBilling.objects.filter(tenant_id__in={row.tenant_id for row in rows})
    }
    confirmed: list[int] = []
    for row in rows:
        if _push_one(client, row, billing.get(row.tenant_id), meters.get(row.resolution), report):
            confirmed.append(row.pk)
    # One write for the batch: if we die before it, those rows are resent and Stripe's
    # duplicate-identifier answer confirms them then.
    UsageRecord.objects.filter(pk__in=confirmed).update(
        push_state=Pushed.CONFIRMED,
        confirmed_at=timezone.now(),
        push_attempts=F("push_attempts") + 1,
        last_push_error="",
    )
    if report != PushReport():
        logger.info("Usage push: %s", report)
    return report


def _push_one(
    client: stripe.StripeClient,
    row: UsageRecord,
    billing: TenantBilling | None,
    event_name: str | None,
    report: PushReport,
) -> bool:
    """Send one row; True when Stripe has it (the caller marks it confirmed)."""
    if (
        billing is None
        or not billing.stripe_customer_id
        or billing.subscription_status not in SUBSCRIBED
    ):
        _hold(row, "The tenant has no Stripe subscription: Stripe would invoice nobody.")
        report.held += 1
        return False
    if event_name is None:
        _hold(row, f"No Stripe meter for {row.resolution}: run `manage.py stripe_provision`.")
        report.held += 1
        return False
    payload = {"stripe_customer_id": billing.stripe_customer_id, "value": str(row.seconds)}
    if row.end_user_id:
        payload["end_user_id"] = row.end_user_id
    try:
        client.v1.billing.meter_events.create(
            params={
                "event_name": event_name,
                "identifier": row.identifier,
                "timestamp": int(row.completed_at.timestamp()),
                "payload": payload,
            }
        )
    except stripe.InvalidRequestError as exc:
        if not is_duplicate_identifier(exc):
            _needs_attention(row, f"Stripe refused the event: {exc.user_message or exc}")
            report.needs_attention += 1
            return False
    except (stripe.RateLimitError, stripe.APIConnectionError, stripe.APIError) as exc:
        _retry_later(row, exc, outcome_unknown=not isinstance(exc, stripe.RateLimitError))
        report.retrying += 1
        return False
    except stripe.StripeError as exc:
        _retry_later(row, exc, outcome_unknown=False)
        report.retrying += 1
        return False
    report.confirmed += 1
    return True


def _provision_on_demand(client: stripe.StripeClient, tenant_ids: set[int]) -> None:
    """A tenant's first billable run creates its Stripe customer and subscription."""
    unprovisioned = Tenant.objects.filter(pk__in=tenant_ids).exclude(
        billing__stripe_customer_id__isnull=False, billing__stripe_subscription_id__gt=""
    )
    for tenant in unprovisioned:
        try:
            stripe_provision(client=client, tenants=[tenant])
        except stripe.StripeError as exc:
            logger.warning("Provisioning Stripe for %s failed (%s); its rows wait", tenant, exc)


def is_duplicate_identifier(exc: stripe.InvalidRequestError) -> bool:
    """Stripe's answer for an identifier it already recorded: for us, "confirmed"."""
    message = str(exc.user_message or "").lower()
    return exc.code == "resource_already_exists" or (
        "identifier" in message and "already" in message
    )


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
    """Too old for Stripe's window, or unknown for too long to resend safely: a human."""
    too_old = now - timedelta(days=int(setting("METER_EVENT_MAX_AGE_DAYS")))
    unknown_for = timedelta(seconds=int(setting("UNKNOWN_OUTCOME_ATTENTION_SECONDS")))
    stale = UsageRecord.objects.filter(push_state__in=[Pushed.PENDING, Pushed.HELD]).filter(
        Q(completed_at__lt=too_old) | Q(outcome_unknown_since__lt=now - unknown_for)
    )
    return stale.update(
        push_state=Pushed.NEEDS_ATTENTION,
        last_push_error=(
            "Outside Stripe's window (35 days old, or unknown outcome for 20 h beyond its "
            "~24 h dedupe): check Stripe for the identifier before sending by hand."
        ),
    )


def _release_held_rows(now: datetime) -> int:
    subscribed = TenantBilling.objects.filter(
        subscription_status__in=SUBSCRIBED, stripe_customer_id__isnull=False
    ).values("tenant_id")
    return UsageRecord.objects.filter(
        push_state=Pushed.HELD,
        tenant_id__in=subscribed,
        resolution__in=StripeMeter.objects.values("resolution"),
    ).update(push_state=Pushed.PENDING, next_push_at=now)


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


def _retry_later(row: UsageRecord, exc: Exception, *, outcome_unknown: bool) -> None:
    attempts = row.push_attempts + 1
    ceiling = min(float(setting("PUSH_MAX_BACKOFF_SECONDS")), 5.0 * 2**attempts)
    delay = timedelta(seconds=random.uniform(ceiling / 2, ceiling))  # noqa: S311
    now = timezone.now()
    values: dict[str, object] = {
        "push_attempts": attempts,
        "next_push_at": now + delay,
        "last_push_error": f"{type(exc).__name__}: {exc}"[:2000],
    }
    if outcome_unknown and row.outcome_unknown_since is None:
        values["outcome_unknown_since"] = now
    UsageRecord.objects.filter(pk=row.pk).update(**values)
