"""Staff's view of the money: held and refused usage, differences with Stripe and what to
do about them, prices (added, never edited) and what provisioning made."""

from decimal import Decimal
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet, Sum
from django.http import HttpRequest

from billing.meter_errors import usage_resend_refused
from billing.models import (
    BillingDifference,
    EndUserLimit,
    MeteredPrice,
    MeterErrorReport,
    Price,
    SubscriptionItem,
    TenantBilling,
    UsageRecord,
)

Pushed = UsageRecord.PushState


@admin.register(TenantBilling)
class TenantBillingAdmin(admin.ModelAdmin[TenantBilling]):
    list_display = [
        "tenant",
        "subscription_status",
        "card_on_file",
        "payment_method_exempt",
        "held_amount",
        "provision_attempts",
        "next_provision_at",
        "monthly_spend_cap",
        "max_in_flight_runs",
    ]
    list_filter = ["subscription_status", "payment_method_exempt"]
    readonly_fields = [
        "payment_method_id",
        "payment_method_brand",
        "payment_method_last4",
        "payment_method_read_at",
        "billing_email",
        "stripe_customer_id",
        "stripe_subscription_id",
        "subscription_status",
        "subscription_status_at",
        "subscription_created_at",
        "customer_generation",
        "subscription_generation",
        "provision_attempts",
        "next_provision_at",
        "last_provision_error",
    ]

    @admin.display(description="Card on file")
    def card_on_file(self, billing: TenantBilling) -> str:
        """Read from Stripe's customer; changed only by Stripe's events or a Checkout read."""
        if not billing.has_payment_method:
            return "none"
        return f"{billing.payment_method_brand} {billing.payment_method_last4}"

    @admin.display(description="Held usage (USD)")
    def held_amount(self, billing: TenantBilling) -> Decimal:
        """Money Stripe cannot bill yet: no subscription, or no item for its price."""
        held = UsageRecord.objects.filter(tenant_id=billing.tenant_id, push_state=Pushed.HELD)
        return held.aggregate(total=Sum("amount"))["total"] or Decimal(0)


@admin.register(UsageRecord)
class UsageRecordAdmin(admin.ModelAdmin[UsageRecord]):
    """Rows that need a human show up under the push-state filter."""

    list_display = [
        "identifier",
        "tenant",
        "resolution",
        "seconds",
        "amount",
        "push_state",
        "counted_at",
        "last_push_error",
    ]
    list_filter = ["push_state", "resolution", "tenant"]
    search_fields = ["identifier", "end_user_id"]
    date_hierarchy = "event_timestamp"
    list_select_related = ["tenant"]
    readonly_fields = [field.name for field in UsageRecord._meta.fields]
    actions = ["resend_refused"]

    @admin.action(description="Resend refused rows under a new identifier (cause fixed)")
    def resend_refused(self, request: HttpRequest, rows: QuerySet[UsageRecord]) -> None:
        resent = usage_resend_refused(rows)
        self.message_user(request, f"{resent} refused row(s) will be sent again.", messages.INFO)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(BillingDifference)
class BillingDifferenceAdmin(admin.ModelAdmin[BillingDifference]):
    list_display = [
        "tenant",
        "period",
        "kind",
        "metered_price",
        "ledger_value",
        "stripe_value",
        "state",
        "action",
    ]
    list_filter = ["state", "kind", "tenant"]
    readonly_fields = [field.name for field in BillingDifference._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Price)
class PriceAdmin(admin.ModelAdmin[Price]):
    """A price change is a new row with its date: a row once sold at is never edited."""

    list_display = ["resolution", "tenant", "per_second", "effective_from"]
    list_filter = ["resolution", "tenant"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return ["tenant", "resolution", "per_second", "effective_from"] if obj else []


@admin.register(MeterErrorReport)
class MeterErrorReportAdmin(admin.ModelAdmin[MeterErrorReport]):
    list_display = ["event_type", "meter_id", "validation_start", "error_count", "rows_flagged"]
    readonly_fields = [field.name for field in MeterErrorReport._meta.fields]


@admin.register(MeteredPrice)
class MeteredPriceAdmin(admin.ModelAdmin[MeteredPrice]):
    list_display = ["event_name", "resolution", "unit_price", "meter_id", "price_id"]
    readonly_fields = [field.name for field in MeteredPrice._meta.fields]


@admin.register(SubscriptionItem)
class SubscriptionItemAdmin(admin.ModelAdmin[SubscriptionItem]):
    list_display = ["item_id", "tenant", "metered_price", "added_at", "retired_at"]
    list_filter = ["tenant"]
    readonly_fields = [field.name for field in SubscriptionItem._meta.fields]


admin.site.register(EndUserLimit)
