"""Which verified Stripe event changes what: each is news, and the state it announces is
read from Stripe (the subscription, the customer, the Checkout Session) before any write.

Called once per event id: the webhook view's delivery record dedupes, in one transaction.
"""

import logging
from typing import Any

import stripe

from billing.checkout import checkout_session_apply
from billing.exceptions import CheckoutNotOurs
from billing.models import TenantBilling
from billing.payment_methods import customer_sync
from billing.stripe_client import stripe_client
from billing.subscriptions import SUBSCRIPTION_EVENTS, subscription_sync

logger = logging.getLogger(__name__)

CUSTOMER_EVENTS = ("customer.updated", "payment_method.detached")


def stripe_event_apply(event: dict[str, Any], *, client: stripe.StripeClient | None = None) -> bool:
    """Act on a verified event; False for one we ignore or that changes nothing."""
    kind = event["type"]
    obj = event["data"]["object"]
    object_id = obj.get("id")
    if not isinstance(object_id, str):
        return False
    client = client or stripe_client()
    if kind in SUBSCRIPTION_EVENTS:
        return subscription_sync(object_id, client=client)
    if kind == "checkout.session.completed":
        if obj.get("mode") != "setup":
            return False
        try:
            return checkout_session_apply(object_id, client=client)
        except CheckoutNotOurs:
            logger.info("Checkout Session %s is not one of ours: ignored", object_id)
            return False
    if kind in CUSTOMER_EVENTS:
        customer_id = _customer_of(kind, obj, event["data"].get("previous_attributes") or {})
        return bool(customer_id) and customer_sync(customer_id, client=client)
    return False


def _customer_of(kind: str, obj: dict[str, Any], previous: dict[str, Any]) -> str:
    """A detached payment method no longer names its customer: its old value does, or
    the tenant whose recorded card it was."""
    if kind == "customer.updated":
        return str(obj["id"])
    customer = previous.get("customer") or obj.get("customer")
    if isinstance(customer, str) and customer:
        return customer
    billing = TenantBilling.objects.filter(payment_method_id=obj["id"]).first()
    return billing.stripe_customer_id or "" if billing is not None else ""
