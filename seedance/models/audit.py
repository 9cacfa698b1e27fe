"""Who changed what in a tenant, when and why."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from seedance.models.tenants import Tenant
from seedance.tenancy import TenantQuerySet


class AuditEntry(models.Model):
    """Who did what to a tenant's keys, members, webhook endpoints, caps or standing, when
    and why.

    Written by ``seedance.audit.audit_record`` in the change's own transaction, so an entry
    exists exactly when its change committed. Never edited; labels outlive the rows named.
    """

    class ActorRole(models.TextChoices):
        STAFF = "staff", "Platform staff"
        TENANT_ADMIN = "tenant_admin", "Tenant admin"
        #: A person acting for themselves, e.g. accepting an invitation to join.
        MEMBER = "member", "Member"
        SYSTEM = "system", "System"
        API_KEY = "api_key", "API key"

    class Action(models.TextChoices):
        KEY_ISSUED = "key.issued", "API key issued"
        KEY_REVOKED = "key.revoked", "API key revoked"
        KEYS_REVOKED_ALL = "keys.revoked_all", "Every API key revoked"
        MEMBER_ROLE_CHANGED = "member.role_changed", "Member's role changed"
        MEMBER_REMOVED = "member.removed", "Member removed"
        INVITATION_SENT = "invitation.sent", "Invitation sent"
        INVITATION_REVOKED = "invitation.revoked", "Invitation revoked"
        INVITATION_ACCEPTED = "invitation.accepted", "Invitation accepted"
        CAP_CHANGED = "cap.changed", "Spend or concurrency caps changed"
        END_USER_LIMIT_SET = "end_user_limit.set", "End-user cap set"
        END_USER_LIMIT_REMOVED = "end_user_limit.removed", "End-user cap removed"
        TENANT_SUSPENDED = "tenant.suspended", "Tenant suspended"
        TENANT_RESUMED = "tenant.resumed", "Tenant resumed"
        TENANT_SETTINGS_CHANGED = "tenant.settings_changed", "Tenant settings changed"
        DISCREPANCY_RESOLVED = "discrepancy.resolved", "Run discrepancy resolved"
        WEBHOOK_ENDPOINT_CREATED = "webhook_endpoint.created", "Webhook endpoint added"
        WEBHOOK_ENDPOINT_CHANGED = "webhook_endpoint.changed", "Webhook endpoint changed"
        WEBHOOK_ENDPOINT_DELETED = "webhook_endpoint.deleted", "Webhook endpoint deleted"
        WEBHOOK_SECRET_ROTATED = "webhook_endpoint.rotated", "Webhook signing secret rotated"
        CALLBACK_SECRET_CREATED = "callback_secret.created", "Callback signing secret created"
        CALLBACK_SECRET_REVOKED = "callback_secret.revoked", "Callback signing secret revoked"
        VIDEO_DELETED = "video.deleted", "Video deleted"
        SHARE_LINK_CREATED = "share_link.created", "Share link created"
        SHARE_LINK_REVOKED = "share_link.revoked", "Share link revoked"

    created_at = models.DateTimeField(default=timezone.now, editable=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_label = models.CharField(max_length=255, help_text="Who, as they were named then.")
    actor_role = models.CharField(max_length=16, choices=ActorRole.choices)
    tenant = models.ForeignKey(
        Tenant, on_delete=models.SET_NULL, null=True, blank=True, related_name="audit_entries"
    )
    tenant_label = models.CharField(max_length=63, blank=True, default="")
    action = models.CharField(max_length=32, choices=Action.choices)
    target = models.CharField(max_length=255, blank=True, default="")
    reason = models.TextField(blank=True, default="")
    details = models.JSONField(default=dict, blank=True, help_text="Values before and after.")

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "audit entries"
        indexes = [
            models.Index(fields=["tenant", "-created_at"], name="audit_tenant_created"),
            models.Index(fields=["action", "-created_at"], name="audit_action_created"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(actor_role="staff") | ~Q(reason=""), name="audit_staff_reason"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.action} by {self.actor_label} at {self.created_at:%Y-%m-%d %H:%M}"
