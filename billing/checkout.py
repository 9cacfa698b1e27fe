"""Stripe Checkout in setup mode: the billing page sends an admin there to save a card.

Checkout only saves the card on the customer; making it the default for invoices is ours
to do, from the completed session read from Stripe (on its verified event, or when the
admin comes back to the success URL). Opening the success URL proves nothing by itself:
an unfinished session changes nothing.
"""

import logging
from typing import Any
from uuid import UUID

import httpx
import stripe

from billing.conf import setting
from billing.exceptions import CheckoutNotOurs
from billing.models import TenantBilling
from billing.naming import TENANT_KEY, is_ours, object_metadata, plain_metadata
from billing.payment_methods import customer_id_of, payment_method_make_default
from seedance.models import Tenant

logger = logging.getLogger(__name__)

SESSION_ID = "{CHECKOUT_SESSION_ID}"
CURRENCY = "usd"


def checkout_start(
    *, tenant: Tenant, success_url: str, cancel_url: str, client: stripe.StripeClient
) -> str:
    """A new setup-mode session for the tenant's customer; its hosted page's URL.

    ``success_url`` carries ``{CHECKOUT_SESSION_ID}``, which Stripe fills in.
    """
    if SESSION_ID not in success_url:
        raise ValueError(f"success_url must carry {SESSION_ID}")
    session = client.v1.checkout.sessions.create(
        params={
            "mode": "setup",
            "currency": CURRENCY,
            "customer": customer_id_of(tenant),
            "success_url": success_url,
            "cancel_url": cancel_url,
            "metadata": object_metadata(tenant),
        }
    )
    return str(session.url)


def checkout_session_apply(
    session_id: str, *, client: stripe.StripeClient, tenant: Tenant | None = None
) -> bool:
    """Read a session from Stripe; if it is a completed setup of ours, make its card the
    customer's default. True when a card was applied. ``tenant``: the session must be its.
    """
    session = client.v1.checkout.sessions.retrieve(session_id, params={"expand": ["setup_intent"]})
    owner = _owner(session)
    if owner is None or (tenant is not None and owner.pk != tenant.pk):
        raise CheckoutNotOurs(f"Checkout Session {session_id} is not this tenant's.")
    if session.mode != "setup" or session.status != "complete":
        return False
    intent = session.setup_intent
    if isinstance(intent, str):
        intent = client.v1.setup_intents.retrieve(intent)
    if intent is None or intent.status != "succeeded" or not intent.payment_method:
        return False
    method = intent.payment_method
    method_id = method if isinstance(method, str) else method.id
    payment_method_make_default(tenant=owner, payment_method_id=method_id, client=client)
    return True


def _owner(session: Any) -> Tenant | None:
    """Ours by metadata, and made for the customer we store for that tenant."""
    if not is_ours(session.metadata):
        return None
    tenant_uuid = str(plain_metadata(session.metadata).get(TENANT_KEY))
    try:
        UUID(tenant_uuid)
    except ValueError:
        return None
    billing = (
        TenantBilling.objects.select_related("tenant").filter(tenant__uuid=tenant_uuid).first()
    )
    if billing is None or not session.customer or billing.stripe_customer_id != session.customer:
        return None
    return billing.tenant


def attach_test_card(tenant: Tenant, *, client: stripe.StripeClient) -> bool:
    """For the demo and tests: save the 4242 test card through the Stripe fake's own
    Checkout page, then apply the session as the success page would. Refuses anything but
    the loopback fake (``STRIPE_API_BASE`` set)."""
    base = setting("STRIPE_API_BASE")
    if not base:
        raise ValueError("attach_test_card works only against the Stripe fake")
    url = checkout_start(
        tenant=tenant,
        success_url=f"{base}/_fake/done?session_id={SESSION_ID}",
        cancel_url=f"{base}/_fake/canceled",
        client=client,
    )
    if not url.startswith(base):
        raise ValueError(f"{url} is not the Stripe fake's page")
    answer = httpx.post(url, data={"card": "4242"}, timeout=10)
    if not answer.is_redirect:
        raise ValueError(f"The fake's Checkout page answered {answer.status_code}")
    session_id = url.rstrip("/").rpartition("/")[2]
    return checkout_session_apply(session_id, client=client, tenant=tenant)
