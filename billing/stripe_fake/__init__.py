"""A loopback fake of the Stripe endpoints billing calls, driven by the real ``stripe`` SDK.

It follows Stripe's documentation, not our code: at request time it checks only what Stripe
checks then (params, types, duplicate identifiers, idempotency keys) and answers in Stripe's
error shape; what Stripe judges later (meter, customer, value, timestamp) it reports later, as
signed thin events. Summaries and invoices lag as Stripe's do. See docs/stripe-fake.md.
"""

from .faults import KINDS, FaultError, Faults
from .server import StripeFake

__all__ = ["KINDS", "FaultError", "Faults", "StripeFake"]
