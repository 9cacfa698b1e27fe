"""Tenants, the people in them, their invitations and their API keys."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from seedance.run_input import PORTAL_END_USER_PREFIX
from seedance.tenancy import TenantQuerySet


class Tenant(models.Model):
    #: Unique across every deployment (pks are not): what Stripe objects are tied to.
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    slug = models.SlugField(max_length=63, unique=True)
    name = models.CharField(max_length=200)
    output_retention_days = models.PositiveIntegerField(
        null=True, blank=True, help_text="Days our copy of each video is kept; empty: forever."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    #: Set by staff (seedance.services.suspension): keys answer 403, the portal and the
    #: output links stop, runs not yet sent are canceled. Staff's reason is in the audit log.
    suspended_at = models.DateTimeField(null=True, blank=True, editable=False)
    suspension_notice = models.TextField(
        blank=True,
        default="",
        editable=False,
        help_text="Shown to the tenant's members while suspended; staff's reason is not.",
    )

    def __str__(self) -> str:
        return self.slug

    @property
    def is_suspended(self) -> bool:
        return self.suspended_at is not None


class Membership(models.Model):
    class Role(models.TextChoices):
        MEMBER = "member", "Member"
        ADMIN = "admin", "Tenant admin"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships")

    class JoinedVia(models.TextChoices):
        FOUNDER = "founder", "Created the tenant"
        INVITATION = "invitation", "Accepted an invitation"
        STAFF = "staff", "Added by platform staff"
        LEGACY = "legacy", "Added before invitations needed consent"

    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    #: How the person came to be a member; rows made outside the portal are staff's doing.
    joined_via = models.CharField(max_length=16, choices=JoinedVia.choices, default=JoinedVia.STAFF)
    created_at = models.DateTimeField(auto_now_add=True)
    #: When the person last worked in this tenant: where their next sign-in opens.
    last_used_at = models.DateTimeField(null=True, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "tenant"], name="membership_unique_user_tenant"
            ),
            models.CheckConstraint(
                condition=Q(joined_via__in=["founder", "invitation", "staff", "legacy"]),
                name="membership_joined_via_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.tenant} ({self.role})"


#: An invitation not yet answered nor revoked (it may still have expired: see ``status``).
INVITATION_OPEN = Q(accepted_at__isnull=True, declined_at__isnull=True, revoked_at__isnull=True)


class Invitation(models.Model):
    """A tenant admin's offer of membership to an email address, valid until its owner
    accepts or declines it, an admin revokes it, or it expires. Only the token's SHA-256
    digest is stored: the link in the email is the one copy of the token."""

    class Status(models.TextChoices):
        PENDING = "pending"
        ACCEPTED = "accepted"
        DECLINED = "declined"
        REVOKED = "revoked"
        EXPIRED = "expired"

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="invitations")
    #: Lower-cased: addresses are compared case-insensitively, as allauth stores them.
    email = models.EmailField(max_length=254)
    role = models.CharField(max_length=16, choices=Membership.Role.choices)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    token_digest = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    declined_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = TenantQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "email"],
                condition=INVITATION_OPEN,
                name="invitation_one_open_per_email",
            ),
            models.CheckConstraint(
                condition=Q(accepted_at__isnull=True, declined_at__isnull=True)
                | Q(accepted_at__isnull=True, revoked_at__isnull=True)
                | Q(declined_at__isnull=True, revoked_at__isnull=True),
                name="invitation_closed_once",
            ),
        ]
        indexes = [models.Index(fields=["email"], name="invitation_email")]

    def __str__(self) -> str:
        return f"{self.email} to {self.tenant} ({self.role})"

    @property
    def status(self) -> str:
        if self.accepted_at:
            return self.Status.ACCEPTED
        if self.declined_at:
            return self.Status.DECLINED
        if self.revoked_at:
            return self.Status.REVOKED
        if self.expires_at <= timezone.now():
            return self.Status.EXPIRED
        return self.Status.PENDING


class Person(models.Model):
    """A portal user's stable public id: their runs carry ``portal:<id>`` as end_user_id,
    so a tenant app's end user named "42" is never confused with a person."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="person"
    )
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)

    def __str__(self) -> str:
        return f"{self.user} ({self.public_id})"

    @property
    def end_user_id(self) -> str:
        return f"{PORTAL_END_USER_PREFIX}{self.public_id}"


class ApiKey(models.Model):
    """A tenant app's credential. Only the SHA-256 digest of the key is stored."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=32, help_text="The visible start of the key.")
    digest = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = TenantQuerySet.as_manager()

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
