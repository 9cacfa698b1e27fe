"""A tenant's subscription state, kept current from Stripe's webhook events.

Events arrive late and out of order: the state follows the newest event by its creation
time at Stripe, not the last one to arrive.
"""

import logging
from datetime import UTC, datetime
from typing import Any

from django.db.models import Q

from billing.models import TenantBilling

logger = logging.getLogger(__name__)

Status = TenantBilling.SubscriptionStatus
SUBSCRIPTION_EVENTS = (
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "customer.subscription.paused",
    "customer.subscription.resumed",
)
HANDLED_EVENTS = (*SUBSCRIPTION_EVENTS, "invoice.paid", "invoice.payment_failed")


def stripe_event_apply(event: dict[str, Any]) -> bool:
    """Apply a verified event; False for an event we ignore or that changes nothing.

    Called once per event id: the webhook view's delivery record dedupes, in the same
    transaction.
    """
    if event["type"] not in HANDLED_EVENTS:
        return False
    return _apply(event, datetime.fromtimestamp(int(event["created"]), tz=UTC))


def _apply(event: dict[str, Any], created: datetime) -> bool:
    obj = event["data"]["object"]
    customer = obj.get("customer")
    if not isinstance(customer, str):
        return False
    if event["type"] in SUBSCRIPTION_EVENTS:
        status = obj.get("status")
        subscription_id = obj.get("id") or ""
    elif event["type"] == "invoice.paid":
        status, subscription_id = Status.ACTIVE, _subscription_of(obj)
    else:
        status, subscription_id = Status.PAST_DUE, _subscription_of(obj)
    if status not in Status.values:
        logger.warning("Unknown Stripe subscription status %r in %s", status, event["id"])
        return False
    values: dict[str, Any] = {"subscription_status": status, "subscription_status_at": created}
    if subscription_id:
        values["stripe_subscription_id"] = subscription_id
    updated = (
        TenantBilling.objects.filter(stripe_customer_id=customer)
        .filter(Q(subscription_status_at__isnull=True) | Q(subscription_status_at__lte=created))
        .update(**values)
    )
    if not updated:
        logger.info("Stripe event %s is older than the state it would replace", event["id"])
    return bool(updated)


def _subscription_of(invoice: dict[str, Any]) -> str:
    """An invoice names its subscription at the top level or, in newer API versions,
    under ``parent.subscription_details``."""
    subscription = invoice.get("subscription")
    if isinstance(subscription, str):
        return subscription
    details = (invoice.get("parent") or {}).get("subscription_details") or {}
    value = details.get("subscription")
    return value if isinstance(value, str) else ""
