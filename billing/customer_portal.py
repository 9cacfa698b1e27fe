"""Stripe's customer Billing Portal: one configuration for this deployment, made once and
used by every session, so tenants see invoices, cards and billing details but can neither
cancel nor change the subscription that bills their usage."""

from typing import Any

import stripe
from django.db import IntegrityError, transaction

from billing.exceptions import BillingNotReady
from billing.models import PortalConfiguration, TenantBilling
from billing.naming import is_ours, namespace, object_metadata, portal_configuration_key
from seedance.models import Tenant

FEATURES: dict[str, Any] = {
    "invoice_history": {"enabled": True},
    "payment_method_update": {"enabled": True},
    "customer_update": {"enabled": True, "allowed_updates": ["email", "address", "tax_id"]},
    "subscription_cancel": {"enabled": False},
    "subscription_update": {"enabled": False},
}


def portal_configuration_ensure(*, client: stripe.StripeClient) -> str:
    """The stored configuration's id; else ours found at Stripe, else a new one (keyed)."""
    stored = PortalConfiguration.objects.filter(namespace=namespace()).first()
    if stored is not None:
        return stored.configuration_id
    found = next(
        (
            configuration
            for configuration in client.v1.billing_portal.configurations.list(
                params={"active": True, "limit": 100}
            ).auto_paging_iter()
            if is_ours(configuration.metadata)
        ),
        None,
    )
    configuration = found or client.v1.billing_portal.configurations.create(
        params={
            "features": FEATURES,  # type: ignore[typeddict-item]
            "metadata": object_metadata(),
        },
        options={"idempotency_key": portal_configuration_key()},
    )
    try:
        with transaction.atomic():
            PortalConfiguration.objects.create(
                namespace=namespace(), configuration_id=configuration.id
            )
    except IntegrityError:
        return PortalConfiguration.objects.get(namespace=namespace()).configuration_id
    return str(configuration.id)


def portal_session_url(*, tenant: Tenant, return_url: str, client: stripe.StripeClient) -> str:
    """A fresh, short-lived Billing Portal link for the tenant's customer."""
    billing = TenantBilling.objects.filter(pk=tenant.pk).first()
    if billing is None or not billing.stripe_customer_id:
        raise BillingNotReady(f"{tenant} has no Stripe customer yet.")
    session = client.v1.billing_portal.sessions.create(
        params={
            "customer": billing.stripe_customer_id,
            "configuration": portal_configuration_ensure(client=client),
            "return_url": return_url,
        }
    )
    return str(session.url)
