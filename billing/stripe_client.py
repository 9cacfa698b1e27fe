"""Builds the StripeClient from settings; nowhere else does."""

import stripe
from stripe._base_address import BaseAddresses

from billing.conf import setting


def stripe_client() -> stripe.StripeClient:
    """The SDK's own retries stay off: the push owns its backoff in the ledger."""
    base = setting("STRIPE_API_BASE")
    addresses: BaseAddresses = (
        {"api": base, "meter_events": base, "files": base, "connect": base} if base else {}
    )
    return stripe.StripeClient(
        setting("STRIPE_API_KEY"),
        base_addresses=addresses,
        max_network_retries=0,
        http_client=stripe.HTTPXClient(
            timeout=float(setting("STRIPE_TIMEOUT")), allow_sync_methods=True
        ),
    )
