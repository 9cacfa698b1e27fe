"""Staff's view of the money: held and refused usage, differences with Stripe and what to
do about them, prices (added, never edited) and what provisioning made."""

from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.db.models import QuerySet, Sum
from django.http import HttpRequest
from django.utils import timezone

from billing.cap_notices import cap_notices_check
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
from billing.portal.services import record_caps_changed
from seedance.admin_views import REASON_MAX_CHARS
from seedance.audit import Actor

Pushed = UsageRecord.PushState
CAP_FIELDS = ("monthly_spend_cap", "max_in_flight_runs", "end_user_monthly_spend_cap")
#: What staff may change on a tenant's billing row: its caps, and whether it may run
#: past the allowance without a card; each change is audited with its reason.
AUDITED_FIELDS = (*CAP_FIELDS, "payment_method_exempt")


class TenantBillingForm(forms.ModelForm[TenantBilling]):
    """Staff change caps with a reason, kept in the audit log with the values before/after."""

    reason = forms.CharField(
        max_length=REASON_MAX_CHARS,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Why: recorded in the tenant's audit log with the caps changed.",
    )


@admin.register(TenantBilling)
class TenantBillingAdmin(admin.ModelAdmin[TenantBilling]):
    form = TenantBillingForm
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

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        """A billing row stays with its tenant (the audit entry names it)."""
        return [*self.readonly_fields, *(["tenant"] if obj else [])]

    def save_model(self, request: HttpRequest, obj: TenantBilling, form: Any, change: bool) -> None:
        """Saved and audited in one transaction: a refused entry leaves the caps as they were."""
        before = {name: form.initial.get(name) for name in AUDITED_FIELDS} if change else {}
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            record_caps_changed(
                tenant=obj.tenant,
                before=before,
                after={name: getattr(obj, name) for name in AUDITED_FIELDS},
                actor=Actor.staff(request.user),
                reason=form.cleaned_data["reason"],
            )
            cap_notices_check(tenant=obj.tenant, at=timezone.now())

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
    """A report needing a person: its summaries could not say which rows were refused
    (its note says where); reconciliation shows the difference too."""

    list_display = [
        "event_type",
        "meter_id",
        "validation_start",
        "error_count",
        "unnamed_errors",
        "rows_flagged",
        "checked_at",
        "needs_person",
    ]
    list_filter = ["needs_person"]
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


@admin.register(EndUserLimit)
class EndUserLimitAdmin(admin.ModelAdmin[EndUserLimit]):
    """Shown, not edited: a tenant's admins set these in the portal, where each change is
    audited; staff change a tenant's caps on its billing row, with a reason."""

    list_display = ["tenant", "end_user_id", "monthly_spend_cap"]
    list_filter = ["tenant"]
    readonly_fields = ["tenant", "end_user_id", "monthly_spend_cap"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
