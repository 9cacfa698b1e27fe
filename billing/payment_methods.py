"""A tenant's payment method and billing email, as Stripe holds them on its customer.

Our record (brand and last four of the customer's ``invoice_settings.default_payment_method``,
and its email) changes only after a read of the customer from Stripe: an event is news that
it changed, never the state itself, so late or repeated events cannot roll it back.
"""

import logging
from typing import Any

import stripe
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from billing.exceptions import BillingNotReady
from billing.limits import tenant_billing_for_update
from billing.models import TenantBilling
from billing.naming import idempotency_key
from seedance.models import Tenant

logger = logging.getLogger(__name__)

DEFAULT_METHOD = "invoice_settings.default_payment_method"


def customer_sync(customer_id: str, *, client: stripe.StripeClient) -> bool:
    """Read the customer and record its default payment method and email; True if changed.

    Only a customer stored as a tenant's counts: anyone else's is ignored.
    """
    billing = TenantBilling.objects.filter(stripe_customer_id=customer_id).first()
    if billing is None:
        logger.info("Customer %s is not one of ours: ignored", customer_id)
        return False
    customer = client.v1.customers.retrieve(customer_id, params={"expand": [DEFAULT_METHOD]})
    return record_customer(billing.tenant, customer)


def record_customer(tenant: Tenant, customer: Any) -> bool:
    """Write what a fetched customer (default payment method expanded) says."""
    if getattr(customer, "deleted", False):
        fields = {"payment_method_id": "", "payment_method_brand": "", "payment_method_last4": ""}
        email = ""
    else:
        method = customer.invoice_settings.default_payment_method
        card = getattr(method, "card", None) if method is not None else None
        fields = {
            "payment_method_id": method.id if method is not None else "",
            "payment_method_brand": str(card.brand) if card is not None else "",
            "payment_method_last4": str(card.last4) if card is not None else "",
        }
        email = customer.email or ""
    with transaction.atomic():
        billing = tenant_billing_for_update(tenant)
        before = {name: getattr(billing, name) for name in [*fields, "billing_email"]}
        after = {**fields, "billing_email": email}
        TenantBilling.objects.filter(pk=tenant.pk).update(
            **after, payment_method_read_at=timezone.now()
        )
    return before != after


def payment_method_make_default(
    *, tenant: Tenant, payment_method_id: str, client: stripe.StripeClient
) -> bool:
    """Make a payment method the customer's default for invoices, and record it.

    The same request for the same method replays, so doing it twice is harmless.
    """
    customer_id = customer_id_of(tenant)
    customer = client.v1.customers.update(
        customer_id,
        params={
            "invoice_settings": {"default_payment_method": payment_method_id},
            "expand": [DEFAULT_METHOD],
        },
        options={"idempotency_key": idempotency_key("default-pm", customer_id, payment_method_id)},
    )
    return record_customer(tenant, customer)


def billing_email_update(*, tenant: Tenant, email: str, client: stripe.StripeClient) -> None:
    """Set the Stripe customer's email (where invoices go), then record it."""
    validate_email(email)
    customer = client.v1.customers.update(
        customer_id_of(tenant), params={"email": email, "expand": [DEFAULT_METHOD]}
    )
    record_customer(tenant, customer)


def customer_id_of(tenant: Tenant) -> str:
    """The tenant's Stripe customer; BillingNotReady before provisioning made it."""
    billing = TenantBilling.objects.filter(pk=tenant.pk).first()
    if billing is None or not billing.stripe_customer_id:
        raise BillingNotReady(f"{tenant} has no Stripe customer yet.")
    return billing.stripe_customer_id
