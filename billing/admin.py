from django.contrib import admin

from billing.models import EndUserLimit, Price, TenantBilling, UsageRecord


@admin.register(TenantBilling)
class TenantBillingAdmin(admin.ModelAdmin[TenantBilling]):
    list_display = [
        "tenant",
        "subscription_status",
        "monthly_spend_cap",
        "max_in_flight_runs",
        "end_user_monthly_spend_cap",
    ]
    list_filter = ["subscription_status"]
    readonly_fields = ["stripe_customer_id", "stripe_subscription_id", "subscription_status_at"]


@admin.register(UsageRecord)
class UsageRecordAdmin(admin.ModelAdmin[UsageRecord]):
    """Rows that need a human show up under the push-state filter."""

    list_display = ["identifier", "tenant", "resolution", "seconds", "amount", "push_state"]
    list_filter = ["push_state", "resolution", "tenant"]
    search_fields = ["identifier", "end_user_id"]
    date_hierarchy = "event_timestamp"
    list_select_related = ["tenant"]
    readonly_fields = [field.name for field in UsageRecord._meta.fields]


admin.site.register(Price)
admin.site.register(EndUserLimit)
