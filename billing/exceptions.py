"""billing's own errors. Admission refusals (caps, payment) are seedance's, since
seedance's API maps them; these are billing's faults towards Stripe."""


class BillingError(Exception):
    """The base of every billing error."""


class SubscriptionFull(BillingError):
    """Stripe allows 20 items a subscription: a price cannot get its item until another
    is retired."""


class SubscriptionEnded(BillingError):
    """The tenant's subscription was canceled or expired: a new one is a person's decision."""


class BillingNotReady(BillingError):
    """The tenant has no Stripe customer yet (provisioning has not run or is retrying)."""


class CheckoutNotOurs(BillingError):
    """A Checkout Session that this deployment did not make for this tenant."""
