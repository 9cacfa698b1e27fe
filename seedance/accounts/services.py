"""Deleting one's own account: the person goes, the platform's records of what they did stay.

The user row is anonymised and deactivated rather than deleted: runs (``created_by``, and
``end_user_id`` through the kept ``Person``), moderation decisions (protected) and audit
entries keep pointing at it, while the username, names, addresses, password and
authenticators (the personal data) go, so the address can sign up again.
"""

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.contrib.auth.models import User
from django.db import transaction

from seedance.audit import Action, Actor, audit_record
from seedance.exceptions import AccountDeletionRefused
from seedance.models import Membership


def account_deletion_blockers(*, user: User) -> list[str]:
    """Names of the tenants the person is the only admin of while others are members."""
    blocked = []
    for membership in (
        Membership.objects.select_related("tenant")
        .filter(user=user, role=Membership.Role.ADMIN)
        .order_by("tenant__name")
    ):
        others = Membership.objects.for_tenant(membership.tenant).exclude(user=user)
        if others.exists() and not others.filter(role=Membership.Role.ADMIN).exists():
            blocked.append(membership.tenant.name)
    return blocked


def account_delete(*, user: User) -> User:
    """Remove the person's memberships and anonymise their account, or refuse (nothing
    changed) while a tenant with other members would be left without an admin."""
    with transaction.atomic():
        account = User.objects.select_for_update().get(pk=user.pk)
        tenant_ids = Membership.objects.filter(user=account).values_list("tenant_id", flat=True)
        # Locks the memberships a concurrent role change or removal would touch.
        list(Membership.objects.select_for_update().filter(tenant_id__in=list(tenant_ids)))
        blocked = account_deletion_blockers(user=account)
        if blocked:
            raise AccountDeletionRefused(
                f"You are the only admin of {', '.join(blocked)}: make another member an "
                "admin (or remove the other members) first."
            )
        memberships = list(Membership.objects.select_related("tenant").filter(user=account))
        for membership in memberships:
            audit_record(
                actor=Actor.system("account deletion"),
                tenant=membership.tenant,
                action=Action.MEMBER_REMOVED,
                target=account.get_username(),
                reason="The person deleted their account.",
                details={"role": membership.role},
            )
        Membership.objects.filter(user=account).delete()
        EmailAddress.objects.filter(user=account).delete()
        Authenticator.objects.filter(user=account).delete()
        account.username = f"deleted-{account.pk}"
        account.email = account.first_name = account.last_name = ""
        account.set_unusable_password()  # also ends every other session of the account
        account.is_active = account.is_staff = account.is_superuser = False
        account.save()
        account.groups.clear()
        account.user_permissions.clear()
    return account
