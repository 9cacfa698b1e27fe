"""What we bill: a reservation per run, a usage row per billable run, and each tenant's
Stripe state and caps. Only what we bill and must show is stored, not Stripe's graph."""

from billing.models.accounts import EndUserLimit, PortalConfiguration, TenantBilling
from billing.models.fields import money
from billing.models.notices import CapNotice
from billing.models.prices import MeteredPrice, Price, SubscriptionItem
from billing.models.reconciliation import BillingDifference, MeterErrorReport
from billing.models.usage import RunCharge, UsageRecord

__all__ = [
    "BillingDifference",
    "CapNotice",
    "EndUserLimit",
    "MeterErrorReport",
    "MeteredPrice",
    "PortalConfiguration",
    "Price",
    "RunCharge",
    "SubscriptionItem",
    "TenantBilling",
    "UsageRecord",
    "money",
]
