"""A tenant's members: invitations (made, accepted, declined, revoked), roles, removal.

Nobody becomes a member without consent: an admin invites an address, and only an account
that owns that address, verified, can accept. Refusals of an admin's request raise
``TenantChangeRefused``; an invitation that cannot be used raises ``InvitationUnusable``.
"""

import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from seedance.audit import Action, Actor, audit_record
from seedance.conf import setting
from seedance.exceptions import InvitationUnusable, TenantChangeRefused
from seedance.models import INVITATION_OPEN, Invitation, Membership, Tenant
from seedance.selectors import claimed_emails_of, verified_emails_of
from seedance.services.keys import digest_of

INVITATION_SUBJECT_TEMPLATE = "seedance/portal/invitations/email_subject.txt"
INVITATION_BODY_TEMPLATE = "seedance/portal/invitations/email_body.txt"
_TOKEN_BYTES = 32


@dataclass(frozen=True)
class IssuedInvitation:
    invitation: Invitation
    #: The token in the emailed link: never stored, only its digest.
    token: str


def invitation_create(
    *, tenant: Tenant, email: str, role: str, actor: Actor, reason: str = ""
) -> IssuedInvitation:
    """Invite ``email`` to ``tenant`` as ``role`` and email them a link, once committed.

    Refused for an address that is already a member's or already has an open invitation;
    an expired one is closed (as revoked by ``actor``) so the address can be invited anew.
    """
    email = _valid_email(email)
    if role not in Membership.Role.values:
        raise TenantChangeRefused("Pick a role.")
    if _is_member(tenant, email):
        raise TenantChangeRefused(f"{email} is already a member of {tenant.name}.")
    now = timezone.now()
    token = secrets.token_urlsafe(_TOKEN_BYTES)
    try:
        with transaction.atomic():
            Invitation.objects.for_tenant(tenant).filter(
                INVITATION_OPEN, email=email, expires_at__lte=now
            ).update(revoked_at=now, revoked_by=actor.user)
            invitation = Invitation.objects.create(
                tenant=tenant,
                email=email,
                role=role,
                invited_by=actor.user,
                token_digest=digest_of(token),
                expires_at=now + timedelta(seconds=int(setting("INVITATION_TTL_SECONDS"))),
            )
            audit_record(
                action=Action.INVITATION_SENT,
                actor=actor,
                tenant=tenant,
                target=email,
                reason=reason,
                details={"role": role, "expires_at": invitation.expires_at.isoformat()},
            )
            transaction.on_commit(lambda: _send_invitation(invitation, token), robust=True)
    except IntegrityError:
        raise TenantChangeRefused(
            f"{email} already has an open invitation: revoke it to send a new one."
        ) from None
    return IssuedInvitation(invitation=invitation, token=token)


def invitation_accept(*, invitation_id: int, actor: User) -> Membership:
    """Make ``actor`` a member on the invitation's terms, if it is theirs and still open.

    Someone already a member keeps the role they have; the invitation is used up either way.
    """
    with transaction.atomic():
        invitation = _usable(invitation_id, actor)
        now = timezone.now()
        membership = Membership.objects.filter(tenant=invitation.tenant, user=actor).first()
        if membership is None:
            membership = Membership.objects.create(
                tenant=invitation.tenant,
                user=actor,
                role=invitation.role,
                joined_via=Membership.JoinedVia.INVITATION,
                last_used_at=now,
            )
        invitation.accepted_at, invitation.accepted_by = now, actor
        invitation.save(update_fields=["accepted_at", "accepted_by"])
        audit_record(
            action=Action.INVITATION_ACCEPTED,
            actor=Actor.member(actor),
            tenant=invitation.tenant,
            target=_member_label(membership),
            details={"email": invitation.email, "role": membership.role},
        )
    return membership


def invitation_decline(*, invitation_id: int, actor: User) -> Invitation:
    """The invitee says no; only the address's owner may, as only they may accept."""
    with transaction.atomic():
        invitation = _usable(invitation_id, actor)
        invitation.declined_at = timezone.now()
        invitation.save(update_fields=["declined_at"])
    return invitation


def invitation_revoke(
    *, tenant: Tenant, invitation_id: int, actor: Actor, reason: str = ""
) -> Invitation:
    """A tenant admin withdraws an invitation not yet answered; its link then grants nothing."""
    with transaction.atomic():
        invitation = Invitation.objects.for_tenant(tenant).select_for_update().get(pk=invitation_id)
        if invitation.accepted_at or invitation.declined_at:
            raise TenantChangeRefused(f"{invitation.email} already answered this invitation.")
        if invitation.revoked_at is None:
            invitation.revoked_at, invitation.revoked_by = timezone.now(), actor.user
            invitation.save(update_fields=["revoked_at", "revoked_by"])
            audit_record(
                action=Action.INVITATION_REVOKED,
                actor=actor,
                tenant=tenant,
                target=invitation.email,
                reason=reason,
                details={"role": invitation.role},
            )
    return invitation


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


def _valid_email(email: str) -> str:
    email = email.strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise TenantChangeRefused("Give a valid email address, like ada@example.com.") from None
    return email


def _is_member(tenant: Tenant, email: str) -> bool:
    return (
        Membership.objects.for_tenant(tenant)
        .filter(Q(user__email__iexact=email) | Q(user__emailaddress__email__iexact=email))
        .exists()
    )


def _usable(invitation_id: int, actor: User) -> Invitation:
    """The open invitation, locked, if ``actor`` owns its address verified; else refused.
    Another person's invitation is not found, so counting through ids names no address."""
    invitation = (
        Invitation.objects.select_for_update().select_related("tenant").get(pk=invitation_id)
    )
    email = invitation.email.lower()
    if email not in claimed_emails_of(user=actor):
        raise Invitation.DoesNotExist
    if email not in verified_emails_of(user=actor):
        raise InvitationUnusable(
            f"This invitation is for {invitation.email}. Sign in with the account that owns "
            "that address (verified) to answer it."
        )
    status = invitation.status
    if status != Invitation.Status.PENDING:
        raise InvitationUnusable(_CLOSED_MESSAGES[status].format(tenant=invitation.tenant.name))
    return invitation


_CLOSED_MESSAGES: dict[str, str] = {
    Invitation.Status.ACCEPTED: "This invitation to {tenant} was already accepted.",
    Invitation.Status.DECLINED: "This invitation to {tenant} was declined.",
    Invitation.Status.REVOKED: "This invitation to {tenant} was withdrawn by its admins.",
    Invitation.Status.EXPIRED: "This invitation to {tenant} has expired: ask for a new one.",
}


def _send_invitation(invitation: Invitation, token: str) -> None:
    inviter = invitation.invited_by
    context = {
        "invitation": invitation,
        "tenant_name": invitation.tenant.name,
        "inviter": (inviter.get_full_name() or inviter.get_username()) if inviter else "",
        "inviter_email": inviter.email if inviter else "",
        "role": Membership.Role(invitation.role).label,
        "link": setting("PUBLIC_BASE_URL").rstrip("/") + reverse("portal:invitation", args=[token]),
    }
    subject = " ".join(render_to_string(INVITATION_SUBJECT_TEMPLATE, context).split())
    body = render_to_string(INVITATION_BODY_TEMPLATE, context)
    send_mail(subject, body, None, [invitation.email])


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
