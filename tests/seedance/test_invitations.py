"""Invitations with consent: nobody is a member until the owner of the invited address,
verified, accepts; a declined, revoked, expired or used invitation grants nothing."""

import re
import threading
from datetime import timedelta
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth.models import User
from django.core import mail
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from seedance.audit import Actor
from seedance.exceptions import InvitationUnusable, TenantChangeRefused
from seedance.models import Invitation, Membership, Tenant
from seedance.services.keys import digest_of
from seedance.services.members import (
    IssuedInvitation,
    invitation_accept,
    invitation_create,
    invitation_decline,
    invitation_revoke,
)
from tests.factories import make_person

pytestmark = pytest.mark.django_db

PASSWORD = "pw-for-tests-123"


@pytest.fixture
def admin(tenant: Tenant) -> Any:
    user = make_person("ada", "ada@example.com")
    Membership.objects.create(user=user, tenant=tenant, role=Membership.Role.ADMIN)
    return user


@pytest.fixture
def bob(db: None) -> Any:
    return make_person("bob", "bob@example.com", PASSWORD)


@pytest.fixture
def invite(django_capture_on_commit_callbacks: Any) -> Any:
    """invitation_create, with what it defers to the commit (the email) run at once."""

    def make(
        tenant: Tenant, admin: Any, email: str = "bob@example.com", **kw: Any
    ) -> IssuedInvitation:
        with django_capture_on_commit_callbacks(execute=True):
            return invitation_create(
                tenant=tenant,
                email=email,
                role=kw.get("role", "member"),
                actor=Actor.tenant_admin(admin),
            )

    return make


def invitation_link(message: Any) -> str:
    found = re.search(r"http://testserver(/invitations/[^/\s]+/)", message.body)
    assert found is not None, message.body
    return found.group(1)


def is_member(user: Any, tenant: Tenant) -> bool:
    return Membership.objects.filter(user=user, tenant=tenant).exists()


def test_an_invited_existing_account_is_not_a_member_until_it_accepts(
    tenant: Tenant, admin: Any, bob: Any, client: Client, invite: Any
) -> None:
    issued = invite(tenant, admin, role="admin")
    assert not is_member(bob, tenant)
    client.force_login(bob)
    assert client.get(reverse("portal:run-list"))["Location"] == reverse("portal:home")

    page = client.get(invitation_link(mail.outbox[0])).content.decode()
    assert 'id="accept-invitation"' in page
    response = client.post(reverse("portal:invitation-accept", args=[issued.invitation.pk]))
    assert response["Location"] == reverse("portal:run-list")

    membership = Membership.objects.get(user=bob, tenant=tenant)
    assert (membership.role, membership.joined_via) == ("admin", "invitation")
    issued.invitation.refresh_from_db()
    assert issued.invitation.accepted_by == bob
    assert client.get(reverse("portal:run-list")).context["membership"] == membership


def test_the_email_names_the_tenant_the_inviter_the_role_the_expiry_and_the_link(
    tenant: Tenant, admin: Any, invite: Any
) -> None:
    issued = invite(tenant, admin, role="admin")
    (message,) = mail.outbox
    assert message.to == ["bob@example.com"]
    assert "Acme" in message.subject
    assert "ada" in message.subject
    for text in ("Acme", "ada (ada@example.com)", "Tenant admin", "expires on"):
        assert text in message.body, text
    assert f"{issued.invitation.expires_at:%B} {issued.invitation.expires_at.day}" in message.body
    assert invitation_link(message) == reverse("portal:invitation", args=[issued.token])


def test_the_token_is_stored_only_as_its_digest(tenant: Tenant, admin: Any, invite: Any) -> None:
    issued = invite(tenant, admin)
    row = Invitation.objects.get()
    assert row.token_digest == digest_of(issued.token)
    assert issued.token not in str(Invitation.objects.values().get())


def test_the_email_goes_out_only_once_the_invitation_is_committed(
    tenant: Tenant, admin: Any, django_capture_on_commit_callbacks: Any
) -> None:
    def invite_then_fail() -> None:
        with transaction.atomic():
            invitation_create(
                tenant=tenant,
                email="bob@example.com",
                role="member",
                actor=Actor.tenant_admin(admin),
            )
            raise RuntimeError("rolled back")

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError):
        invite_then_fail()
    assert callbacks == []
    assert mail.outbox == []
    assert not Invitation.objects.exists()


def test_expiry_comes_from_the_setting(
    tenant: Tenant, admin: Any, settings: Any, invite: Any
) -> None:
    settings.SEEDANCE = {**settings.SEEDANCE, "INVITATION_TTL_SECONDS": 3600}
    before = timezone.now()
    invitation = invite(tenant, admin).invitation
    assert (
        before + timedelta(hours=1) <= invitation.expires_at <= timezone.now() + timedelta(hours=1)
    )


def test_default_expiry_is_seven_days(tenant: Tenant, admin: Any, invite: Any) -> None:
    invitation = invite(tenant, admin).invitation
    assert invitation.expires_at - invitation.created_at == pytest.approx(
        timedelta(days=7), abs=timedelta(seconds=5)
    )


@pytest.mark.parametrize("email", ["", "bob", "bob@", "@example.com", "bob@example", "a b@x.io"])
def test_an_invalid_address_is_refused_and_changes_nothing(
    tenant: Tenant, admin: Any, email: str, invite: Any
) -> None:
    with pytest.raises(TenantChangeRefused, match="valid email"):
        invite(tenant, admin, email=email)
    assert not Invitation.objects.exists()
    assert mail.outbox == []


def test_an_existing_member_or_an_open_duplicate_is_refused(
    tenant: Tenant, admin: Any, bob: Any, invite: Any
) -> None:
    with pytest.raises(TenantChangeRefused, match="already a member"):
        invite(tenant, admin, email="ADA@example.com")
    invite(tenant, admin)
    with pytest.raises(TenantChangeRefused, match="already has an open invitation"):
        invite(tenant, admin, email="Bob@Example.com")
    assert Invitation.objects.count() == 1
    assert len(mail.outbox) == 1


def test_one_open_invitation_per_address_is_the_databases_rule(
    tenant: Tenant, admin: Any, invite: Any
) -> None:
    first = invite(tenant, admin).invitation
    with pytest.raises(IntegrityError), transaction.atomic():
        Invitation.objects.create(
            tenant=tenant,
            email=first.email,
            role="member",
            token_digest="x" * 64,
            expires_at=first.expires_at,
        )


def test_an_expired_invitation_grants_nothing_and_the_address_can_be_invited_again(
    tenant: Tenant, admin: Any, bob: Any, invite: Any
) -> None:
    old = invite(tenant, admin).invitation
    Invitation.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(InvitationUnusable, match="expired"):
        invitation_accept(invitation_id=old.pk, actor=bob)
    assert not is_member(bob, tenant)

    new = invite(tenant, admin).invitation
    old.refresh_from_db()
    assert old.revoked_at is not None
    assert old.revoked_by == admin
    invitation_accept(invitation_id=new.pk, actor=bob)
    assert is_member(bob, tenant)


def test_a_declined_invitation_grants_nothing(
    tenant: Tenant, admin: Any, bob: Any, invite: Any
) -> None:
    invitation = invite(tenant, admin).invitation
    invitation_decline(invitation_id=invitation.pk, actor=bob)
    with pytest.raises(InvitationUnusable, match="declined"):
        invitation_accept(invitation_id=invitation.pk, actor=bob)
    assert not is_member(bob, tenant)


def test_a_revoked_invitation_grants_nothing(
    tenant: Tenant, admin: Any, bob: Any, invite: Any
) -> None:
    invitation = invite(tenant, admin).invitation
    invitation_revoke(tenant=tenant, invitation_id=invitation.pk, actor=Actor.tenant_admin(admin))
    with pytest.raises(InvitationUnusable, match="withdrawn"):
        invitation_accept(invitation_id=invitation.pk, actor=bob)
    assert not is_member(bob, tenant)
    invitation.refresh_from_db()
    assert invitation.revoked_by == admin


def test_an_accepted_invitation_is_used_up(
    tenant: Tenant, admin: Any, bob: Any, invite: Any
) -> None:
    invitation = invite(tenant, admin).invitation
    membership = invitation_accept(invitation_id=invitation.pk, actor=bob)
    Membership.objects.filter(pk=membership.pk).delete()  # removed afterwards
    with pytest.raises(InvitationUnusable, match="already accepted"):
        invitation_accept(invitation_id=invitation.pk, actor=bob)
    assert not is_member(bob, tenant)
    with pytest.raises(TenantChangeRefused, match="already answered"):
        invitation_revoke(
            tenant=tenant, invitation_id=invitation.pk, actor=Actor.tenant_admin(admin)
        )


def test_another_accounts_answer_is_not_found_and_names_nobody(
    tenant: Tenant, admin: Any, client: Client, invite: Any
) -> None:
    """A forwarded link is no use to anyone but the owner of the invited address, and an
    invitation's id tells anyone else nothing: not the address, not the tenant."""
    issued = invite(tenant, admin)
    eve = make_person("eve", "eve@example.com")
    client.force_login(eve)
    page = client.get(invitation_link(mail.outbox[0])).content.decode()
    assert 'id="invitation-not-yours"' in page
    assert 'id="accept-invitation"' not in page

    for answer in ("portal:invitation-decline", "portal:invitation-accept"):
        response = client.post(reverse(answer, args=[issued.invitation.pk]), follow=True)
        assert response.status_code == 404
        assert issued.invitation.email not in response.content.decode()
        assert tenant.name not in response.content.decode()
    assert not is_member(eve, tenant)
    issued.invitation.refresh_from_db()
    assert issued.invitation.status == "pending"


def test_an_unverified_address_cannot_accept(tenant: Tenant, admin: Any, invite: Any) -> None:
    issued = invite(tenant, admin, email="carol@example.com")
    carol = make_person("carol", "carol-old@example.com")
    EmailAddress.objects.create(user=carol, email="carol@example.com", verified=False)
    carol.email = "carol@example.com"
    carol.save()
    with pytest.raises(InvitationUnusable, match="verified"):
        invitation_accept(invitation_id=issued.invitation.pk, actor=carol)
    assert not is_member(carol, tenant)


def test_someone_already_a_member_keeps_their_role_and_uses_up_the_invitation(
    tenant: Tenant, admin: Any, bob: Any, invite: Any
) -> None:
    invitation = invite(tenant, admin, role="admin").invitation
    existing = Membership.objects.create(user=bob, tenant=tenant, role="member")
    assert invitation_accept(invitation_id=invitation.pk, actor=bob) == existing
    existing.refresh_from_db()
    assert existing.role == "member"
    invitation.refresh_from_db()
    assert invitation.accepted_at is not None


def test_an_unknown_token_is_a_404_and_a_foreign_invitation_id_too(
    client: Client, bob: Any
) -> None:
    assert client.get(reverse("portal:invitation", args=["nope"])).status_code == 404
    client.force_login(bob)
    assert client.post(reverse("portal:invitation-accept", args=[999])).status_code == 404
    assert client.post(reverse("portal:invitation-decline", args=[2**70])).status_code == 404


def test_signed_out_the_link_asks_to_sign_in_or_sign_up_and_comes_back(
    tenant: Tenant, admin: Any, client: Client, bob: Any, invite: Any
) -> None:
    invite(tenant, admin)
    link = invitation_link(mail.outbox[0])
    page = client.get(link).content.decode()
    assert "Sign in or create an account to accept" in page
    assert 'id="accept-invitation"' not in page
    back = f"?next={link.replace('/', '%2F')}"
    assert f'href="{reverse("account_login")}{back}"' in page
    assert f'href="{reverse("account_signup")}{back}"' in page

    response = client.post(
        f"{reverse('account_login')}{back}", {"login": "bob", "password": PASSWORD}
    )
    assert response["Location"] == link
    assert 'id="accept-invitation"' in client.get(link).content.decode()


def test_a_closed_invitations_page_says_so_and_offers_no_answer(
    tenant: Tenant, admin: Any, bob: Any, client: Client, invite: Any
) -> None:
    issued = invite(tenant, admin)
    invitation_revoke(
        tenant=tenant, invitation_id=issued.invitation.pk, actor=Actor.tenant_admin(admin)
    )
    client.force_login(bob)
    page = client.get(reverse("portal:invitation", args=[issued.token])).content.decode()
    assert 'id="invitation-closed"' in page
    assert "withdrawn" in page
    assert 'id="accept-invitation"' not in page


def test_a_new_person_signs_up_with_the_invited_address_and_becomes_a_member(
    tenant: Tenant, admin: Any, client: Client, invite: Any
) -> None:
    invite(tenant, admin, email="zoe@example.com")
    link = invitation_link(mail.outbox[0])
    mail.outbox.clear()
    response = client.post(
        f"{reverse('account_signup')}?next={link}",
        {
            "email": "zoe@example.com",
            "password1": "a-long-pass-phrase-9",
            "password2": "a-long-pass-phrase-9",
        },
    )
    assert response.status_code == 302
    zoe = User.objects.get(email="zoe@example.com")
    assert not Membership.objects.filter(user=zoe).exists()

    (confirmation,) = mail.outbox
    confirm_url = re.search(r"http://testserver(/accounts/confirm-email/[^\s]+)", confirmation.body)
    assert confirm_url is not None, confirmation.body
    confirmed = client.post(confirm_url.group(1), follow=True)
    assert EmailAddress.objects.get(email="zoe@example.com").verified

    # Confirming signs them in and brings them back to the invitation, still not a member.
    assert confirmed.redirect_chain[-1][0] == link
    assert 'id="accept-invitation"' in confirmed.content.decode()
    assert not Membership.objects.filter(user=zoe).exists()
    invitation = Invitation.objects.get(email="zoe@example.com")
    client.post(reverse("portal:invitation-accept", args=[invitation.pk]))
    membership = Membership.objects.get(user=zoe)
    assert (membership.tenant, membership.joined_via) == (tenant, "invitation")


def run_in_threads(count: int, work: Any) -> None:
    barrier = threading.Barrier(count)

    def worker() -> None:
        barrier.wait()
        try:
            work()
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


@pytest.mark.django_db(transaction=True)
def test_parallel_invitations_of_one_address_make_one(django_user_model: Any) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("real parallel writers need PostgreSQL")
    tenant = Tenant.objects.create(slug="acme", name="Acme")
    admin = make_person("ada", "ada@example.com")
    outcomes: list[str] = []

    def invite_zoe() -> None:
        try:
            invitation_create(
                tenant=tenant,
                email="zoe@example.com",
                role="member",
                actor=Actor.tenant_admin(admin),
            )
            outcomes.append("invited")
        except TenantChangeRefused as refused:
            outcomes.append(refused.message)

    run_in_threads(8, invite_zoe)
    assert sorted(outcomes) == sorted(
        ["invited"]
        + ["zoe@example.com already has an open invitation: revoke it to send a new one."] * 7
    )
    assert Invitation.objects.count() == 1
    assert len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_parallel_accepts_of_one_invitation_make_one_member() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("real parallel writers need PostgreSQL")
    tenant = Tenant.objects.create(slug="acme", name="Acme")
    admin = make_person("ada", "ada@example.com")
    zoe = make_person("zoe", "zoe@example.com")
    invitation = invitation_create(
        tenant=tenant, email="zoe@example.com", role="member", actor=Actor.tenant_admin(admin)
    ).invitation
    outcomes: list[str] = []

    def accept() -> None:
        try:
            invitation_accept(invitation_id=invitation.pk, actor=zoe)
            outcomes.append("accepted")
        except InvitationUnusable:
            outcomes.append("refused")

    run_in_threads(6, accept)
    assert sorted(outcomes) == ["accepted"] + ["refused"] * 5
    assert Membership.objects.filter(user=zoe, tenant=tenant).count() == 1


def test_sending_revoking_and_accepting_are_in_the_audit_log(
    tenant: Tenant, admin: Any, bob: Any, invite: Any
) -> None:
    from seedance.models import AuditEntry

    first = invite(tenant, admin).invitation
    invitation_revoke(tenant=tenant, invitation_id=first.pk, actor=Actor.tenant_admin(admin))
    second = invite(tenant, admin, role="admin").invitation
    invitation_accept(invitation_id=second.pk, actor=bob)
    entries = list(
        AuditEntry.objects.for_tenant(tenant)
        .order_by("created_at", "id")
        .values_list("action", "actor_label", "actor_role", "target")
    )
    assert entries == [
        ("invitation.sent", "ada", "tenant_admin", "bob@example.com"),
        ("invitation.revoked", "ada", "tenant_admin", "bob@example.com"),
        ("invitation.sent", "ada", "tenant_admin", "bob@example.com"),
        ("invitation.accepted", "bob", "member", f"bob (user {bob.pk})"),
    ]
