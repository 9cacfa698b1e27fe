"""A tenant's subscription state, read from the subscription object itself.

An event is only news that a subscription changed: its state is fetched fresh from Stripe,
so late or out-of-order events cannot roll it back. Only subscriptions whose metadata
carries this deployment's namespace and the tenant's UUID count, and of those the newest
(by ``created``) is the tenant's. Invoice events never set state: a final invoice can be
paid after the subscription that issued it was canceled.
"""

import logging
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import stripe
from django.db import transaction
from django.utils import timezone

from billing.limits import tenant_billing_for_update
from billing.models import TenantBilling
from billing.naming import TENANT_KEY, is_ours, plain_metadata
from billing.stripe_client import stripe_client
from seedance.models import Tenant

logger = logging.getLogger(__name__)

Status = TenantBilling.SubscriptionStatus
SUBSCRIPTION_EVENTS = (
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "customer.subscription.paused",
    "customer.subscription.resumed",
)


def stripe_event_apply(event: dict[str, Any], *, client: stripe.StripeClient | None = None) -> bool:
    """Act on a verified event; False for one we ignore or that changes nothing.

    Called once per event id: the webhook view's delivery record dedupes, in the same
    transaction.
    """
    if event["type"] not in SUBSCRIPTION_EVENTS:
        return False
    subscription_id = event["data"]["object"].get("id")
    if not isinstance(subscription_id, str):
        return False
    return subscription_sync(subscription_id, client=client or stripe_client())


def subscription_sync(subscription_id: str, *, client: stripe.StripeClient) -> bool:
    """Read one subscription from Stripe and make it the tenant's state if it is the
    tenant's newest of ours. True when the tenant's state changed."""
    try:
        subscription = client.v1.subscriptions.retrieve(subscription_id)
    except stripe.InvalidRequestError as exc:
        if exc.http_status != 404:
            raise
        logger.info("Subscription %s is unknown to this Stripe account: ignored", subscription_id)
        return False
    tenant = _tenant_of(subscription.metadata)
    if tenant is None:
        logger.info("Subscription %s is not one of ours: ignored", subscription_id)
        return False
    status = subscription.status
    if status not in Status.values:
        logger.warning("Unknown Stripe subscription status %r on %s", status, subscription_id)
        return False
    created = datetime.fromtimestamp(subscription.created, tz=UTC)
    with transaction.atomic():
        billing = tenant_billing_for_update(tenant)
        newer_elsewhere = (
            billing.stripe_subscription_id
            and billing.stripe_subscription_id != subscription.id
            and billing.subscription_created_at is not None
            and created < billing.subscription_created_at
        )
        if newer_elsewhere:
            logger.info("Subscription %s is older than %s: ignored", subscription_id, billing)
            return False
        changed = (billing.stripe_subscription_id, billing.subscription_status) != (
            subscription.id,
            status,
        )
        TenantBilling.objects.filter(pk=tenant.pk).update(
            stripe_subscription_id=subscription.id,
            stripe_customer_id=billing.stripe_customer_id or subscription.customer,
            subscription_status=status,
            subscription_created_at=created,
            subscription_status_at=timezone.now(),
        )
    return changed


def _tenant_of(metadata: Any) -> Tenant | None:
    if not is_ours(metadata):
        return None
    try:
        tenant_uuid = UUID(str(plain_metadata(metadata).get(TENANT_KEY)))
    except ValueError:
        return None
    return Tenant.objects.filter(uuid=tenant_uuid).first()
