from django.contrib import admin

from seedance.models import ApiKey, CallbackReceipt, Membership, Run, Tenant


class MembershipInline(admin.TabularInline[Membership, Tenant]):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin[Tenant]):
    list_display = ["slug", "name", "created_at"]
    search_fields = ["slug", "name"]
    inlines = [MembershipInline]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin[ApiKey]):
    list_display = ["name", "prefix", "tenant", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["tenant"]
    readonly_fields = ["prefix", "digest", "created_at", "last_used_at"]

    def has_add_permission(self, request: object) -> bool:
        return False  # keys are issued by a service that shows the secret once


@admin.register(Run)
class RunAdmin(admin.ModelAdmin[Run]):
    list_display = ["id", "tenant", "status", "resolution", "duration", "moderation", "created_at"]
    list_filter = ["status", "moderation", "resolution", "tenant"]
    search_fields = ["id", "provider_run_id", "end_user_id"]
    date_hierarchy = "created_at"
    list_select_related = ["tenant"]
    readonly_fields = [field.name for field in Run._meta.fields]


@admin.register(CallbackReceipt)
class CallbackReceiptAdmin(admin.ModelAdmin[CallbackReceipt]):
    list_display = ["run", "status", "outcome", "request_id", "received_at"]
    list_filter = ["outcome"]
    readonly_fields = [field.name for field in CallbackReceipt._meta.fields]
