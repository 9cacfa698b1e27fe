"""A tenant's members: add, invite, change role, remove.

Refusals raise ``TenantChangeRefused`` with a message for the person.
"""

from dataclasses import dataclass

from allauth.account.forms import default_token_generator
from allauth.account.utils import user_pk_to_url_str
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.models import User
from django.db import transaction
from django.http import HttpRequest

from seedance.audit import Action, Actor, audit_record
from seedance.exceptions import TenantChangeRefused
from seedance.models import Membership, Tenant

INVITE_SUBJECT_TEMPLATE = "seedance/portal/manage/invite_subject.html"
INVITE_EMAIL_TEMPLATE = "seedance/portal/manage/invite_email.html"


@dataclass(frozen=True)
class MemberAdded:
    membership: Membership
    #: True when a new user was made (unusable password): they need an invitation email.
    user_created: bool


def member_add(*, tenant: Tenant, identifier: str, role: str) -> MemberAdded:
    """Add a person by email address: their account if one exists, else a new one.

    Email only, with the same outcome either way (added, and emailed a link), so a tenant
    admin can neither pick platform accounts by username nor learn which addresses exist.
    """
    identifier = identifier.strip()
    if "@" not in identifier:
        raise TenantChangeRefused("Give the person's email address.")
    user_created = False
    with transaction.atomic():
        user = _find_user(identifier)
        if user is None:
            user = User.objects.create_user(username=_free_username(identifier), email=identifier)
            user_created = True
        if Membership.objects.for_tenant(tenant).filter(user=user).exists():
            raise TenantChangeRefused(f"{user.get_username()} is already a member.")
        membership = Membership.objects.create(tenant=tenant, user=user, role=role)
    return MemberAdded(membership=membership, user_created=user_created)


def member_invite_send(*, membership: Membership, request: HttpRequest) -> None:
    """Email a password-set link (allauth's reset-from-key page) through Django's
    PasswordResetForm (console in dev)."""
    user = membership.user
    form = _InviteForm(user=user, data={"email": user.email})
    if form.is_valid():
        form.save(
            request=request,
            use_https=request.is_secure(),
            subject_template_name=INVITE_SUBJECT_TEMPLATE,
            email_template_name=INVITE_EMAIL_TEMPLATE,
            extra_email_context={
                "tenant_name": membership.tenant.name,
                "reset_uid": user_pk_to_url_str(user),
                "reset_key": default_token_generator.make_token(user),
            },
        )


def member_role_set(
    *, tenant: Tenant, membership_id: int, role: str, actor: Actor, reason: str = ""
) -> Membership:
    """Change a member's role; the tenant always keeps at least one admin."""
    with transaction.atomic():
        membership = _locked_membership(tenant, membership_id)
        if membership.role == Membership.Role.ADMIN and role != Membership.Role.ADMIN:
            _refuse_if_last_admin(tenant, membership)
        before = membership.role
        membership.role = role
        membership.save(update_fields=["role"])
        if before != role:
            audit_record(
                action=Action.MEMBER_ROLE_CHANGED,
                actor=actor,
                tenant=tenant,
                target=_member_label(membership),
                reason=reason,
                details={"role": {"before": before, "after": role}},
            )
    return membership


def member_remove(
    *, tenant: Tenant, membership_id: int, actor: Actor, reason: str = ""
) -> Membership:
    """Remove a member (the user stays); never the tenant's last admin."""
    with transaction.atomic():
        membership = _locked_membership(tenant, membership_id)
        if membership.role == Membership.Role.ADMIN:
            _refuse_if_last_admin(tenant, membership)
        target = _member_label(membership)
        membership.delete()
        audit_record(
            action=Action.MEMBER_REMOVED,
            actor=actor,
            tenant=tenant,
            target=target,
            reason=reason,
            details={"user_id": membership.user_id, "role": membership.role},
        )
    return membership


def _member_label(membership: Membership) -> str:
    return f"{membership.user.get_username()} (user {membership.user_id})"


def _find_user(email: str) -> User | None:
    """The one active account with this address (the oldest, if several share it)."""
    return User.objects.filter(email__iexact=email, is_active=True).order_by("pk").first()


def _free_username(email: str) -> str:
    base = email[:140]
    candidate, n = base, 1
    while User.objects.filter(username=candidate).exists():
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def _locked_membership(tenant: Tenant, membership_id: int) -> Membership:
    return (
        Membership.objects.for_tenant(tenant)
        .select_for_update()
        .select_related("user")
        .get(pk=membership_id)
    )


def _refuse_if_last_admin(tenant: Tenant, membership: Membership) -> None:
    admins = list(
        Membership.objects.for_tenant(tenant)
        .select_for_update()
        .filter(role=Membership.Role.ADMIN)
        .values_list("pk", flat=True)
    )
    if admins == [membership.pk]:
        raise TenantChangeRefused(
            "A tenant needs at least one admin: make someone else an admin first."
        )


class _InviteForm(PasswordResetForm):
    """PasswordResetForm skips users without a usable password; an invitee has none yet."""

    def __init__(self, *, user: User, data: dict[str, str]) -> None:
        super().__init__(data=data)
        self._user = user

    def get_users(self, email: str) -> list[User]:
        return [self._user] if self._user.is_active and self._user.email else []
