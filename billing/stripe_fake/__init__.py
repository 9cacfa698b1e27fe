"""A loopback fake of the Stripe endpoints billing calls, driven by the real ``stripe`` SDK.

It checks what Stripe checks (required params, whole-number values, the timestamp window,
unknown customers or event names, duplicate identifiers, idempotency keys) and answers in
Stripe's error shape, so the SDK raises what it would against Stripe; faults are injectable.
"""

from .faults import KINDS, FaultError, Faults
from .server import StripeFake

__all__ = ["KINDS", "FaultError", "Faults", "StripeFake"]
