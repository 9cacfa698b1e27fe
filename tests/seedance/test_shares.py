"""Share links: the owner (or a tenant admin) makes one with an expiry and can revoke it;
anyone holding it watches the video and its poster, nothing else. Every use re-checks
the link, the run's moderation, the copy's retention and deletion, and the tenant."""

import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from seedance.audit import Actor
from seedance.models import AuditEntry, Membership, OutputFile, Run, ShareLink, Tenant
from seedance.outputs import outputs_purge_expired
from seedance.services.keys import digest_of
from seedance.services.shares import shared_file
from seedance.services.suspension import tenant_resume, tenant_suspend
from seedance.services.videos import video_delete
from tests.factories import MP4_BYTES, finish_successfully, make_person, make_run
from tests.posters import attach_poster

pytestmark = pytest.mark.django_db

PROMPT = "A secret prototype drone over the harbour"


def member_of(tenant: Tenant, username: str, role: str = Membership.Role.MEMBER) -> Any:
    user = make_person(username, f"{username}@example.com")
    Membership.objects.create(user=user, tenant=tenant, role=role)
    return user


@pytest.fixture
def ada(tenant: Tenant) -> Any:
    return member_of(tenant, "adalovelace")


@pytest.fixture
def run(tenant: Tenant, ada: Any) -> Run:
    run = finish_successfully(make_run(tenant, created_by=ada, prompt=PROMPT))
    attach_poster(run)
    return run


@pytest.fixture
def owner(client: Client, ada: Any) -> Client:
    client.force_login(ada)
    return client


def share(client: Client, run: Run, days: int = 7) -> str:
    """Create a link through the owner's page; the path it shows once."""
    response = client.post(reverse("portal:share-links", args=[run.pk]), {"days": days})
    assert response.status_code == 201
    found = re.search(r'id="new-share-url">https?://[^/]+(/shared/[^<]+/)<', response.text)
    assert found, response.text
    return found.group(1)


def served(path: str) -> list[int]:
    """What an anonymous visitor gets for the page, the video and the poster."""
    visitor = Client()
    return [visitor.get(f"{path}{part}").status_code for part in ("", "video/", "poster/")]


def body_of(response: Any) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return bytes(response.content)


def test_owner_shares_and_anyone_watches_the_video_and_poster_without_signing_in(
    owner: Client, run: Run
) -> None:
    path = share(owner, run)

    visitor = Client()
    page = visitor.get(path)
    assert page.status_code == 200
    assert f'src="{path}video/"' in page.text
    assert f'poster="{path}poster/"' in page.text
    video = visitor.get(f"{path}video/")
    assert video["Content-Type"] == "video/mp4"
    assert body_of(video) == MP4_BYTES
    poster = visitor.get(f"{path}poster/")
    assert poster["Content-Type"] == "image/jpeg"
    assert body_of(poster) == OutputFile.objects.get(run=run).poster.open("rb").read()


def test_share_page_reveals_no_other_data(
    owner: Client, run: Run, tenant: Tenant, ada: Any
) -> None:
    path = share(owner, run)

    page = Client().get(path)

    html = page.text
    run_id = str(run.pk)
    for secret in (PROMPT, tenant.name, tenant.slug, run_id, run_id[:8], ada.username, ada.email):
        assert secret not in html, secret
    assert "/files/" not in html  # no signed portal link that outlives a revocation
    assert page["Referrer-Policy"] == "no-referrer"
    assert "noindex" in page["X-Robots-Tag"]


def test_token_is_stored_only_as_its_digest(owner: Client, run: Run) -> None:
    path = share(owner, run)
    token = path.strip("/").split("/")[-1]

    link = ShareLink.objects.get()
    assert link.token_digest == digest_of(token)
    assert token not in str(ShareLink.objects.values().get())
    assert len(token) >= 40


def test_share_link_answers_404_once_revoked(owner: Client, run: Run) -> None:
    path = share(owner, run)
    link = ShareLink.objects.get()

    response = owner.post(reverse("portal:share-revoke", args=[run.pk, link.pk]))

    assert response.status_code == 302
    assert served(path) == [404, 404, 404]
    assert AuditEntry.objects.filter(action=AuditEntry.Action.SHARE_LINK_REVOKED).count() == 1


def test_share_link_answers_404_once_expired(owner: Client, run: Run) -> None:
    path = share(owner, run, days=1)
    assert served(path) == [200, 200, 200]

    ShareLink.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    assert served(path) == [404, 404, 404]


@pytest.mark.parametrize("moderation", [Run.Moderation.PENDING, Run.Moderation.REJECTED])
def test_share_link_answers_404_while_the_video_is_held_or_after_rejection(
    owner: Client, run: Run, moderation: str
) -> None:
    path = share(owner, run)

    Run.objects.filter(pk=run.pk).update(moderation=moderation)

    assert served(path) == [404, 404, 404]


def test_share_link_answers_404_past_retention_before_and_after_the_purge(
    owner: Client, run: Run
) -> None:
    path = share(owner, run)

    OutputFile.objects.filter(run=run).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert served(path) == [404, 404, 404]
    assert outputs_purge_expired() == 1
    assert served(path) == [404, 404, 404]


def test_share_link_answers_404_once_the_video_is_deleted(
    owner: Client, run: Run, ada: Any
) -> None:
    path = share(owner, run)

    video_delete(run=run, actor=Actor.member(ada))

    assert served(path) == [404, 404, 404]


def test_share_link_answers_404_while_the_tenant_is_suspended(
    owner: Client, run: Run, tenant: Tenant
) -> None:
    path = share(owner, run)
    staff = make_person("stella", "stella@example.com")
    staff.is_staff = True
    staff.save()

    tenant_suspend(tenant=tenant, actor=Actor.staff(staff), reason="card testing")
    assert served(path) == [404, 404, 404]

    tenant_resume(tenant=tenant, actor=Actor.staff(staff), reason="cleared")
    assert served(path) == [200, 200, 200]


def test_a_link_never_outlasts_the_videos_retention(owner: Client, run: Run) -> None:
    kept_until = timezone.now() + timedelta(days=3)
    OutputFile.objects.filter(run=run).update(expires_at=kept_until)

    share(owner, run, days=30)

    assert ShareLink.objects.get().expires_at == kept_until


def test_an_unknown_or_malformed_token_answers_404(run: Run) -> None:
    assert served(reverse("seedance:shared-video", args=["x" * 43])) == [404, 404, 404]
    assert shared_file("") is None
    assert shared_file("x" * 500) is None


def test_an_expiry_not_offered_is_refused_with_a_field_error(owner: Client, run: Run) -> None:
    response = owner.post(reverse("portal:share-links", args=[run.pk]), {"days": 365})

    assert response.status_code == 400
    assert 'id="id_days"' in response.text
    assert "Select a valid choice" in response.text
    assert not ShareLink.objects.exists()


def test_a_held_video_cannot_be_shared(owner: Client, run: Run) -> None:
    Run.objects.filter(pk=run.pk).update(moderation=Run.Moderation.PENDING)

    page = owner.get(reverse("portal:share-links", args=[run.pk]))
    refused = owner.post(reverse("portal:share-links", args=[run.pk]), {"days": 7})

    assert 'id="share-unavailable"' in page.text
    assert refused.status_code == 400
    assert not ShareLink.objects.exists()


def test_creating_a_link_is_audited_with_who_and_when_it_ends(
    owner: Client, run: Run, ada: Any
) -> None:
    share(owner, run)

    entry = AuditEntry.objects.get(action=AuditEntry.Action.SHARE_LINK_CREATED)
    assert entry.actor == ada
    assert entry.actor_role == AuditEntry.ActorRole.MEMBER
    assert entry.details["expires_at"] == ShareLink.objects.get().expires_at.isoformat()


def test_a_tenant_admin_shares_and_revokes_any_video_of_the_tenant(
    client: Client, run: Run, tenant: Tenant
) -> None:
    client.force_login(member_of(tenant, "grace", Membership.Role.ADMIN))

    path = share(client, run)
    link = ShareLink.objects.get()
    client.post(reverse("portal:share-revoke", args=[run.pk, link.pk]))

    assert served(path) == [404, 404, 404]


@pytest.mark.parametrize("who", ["other tenant's admin", "another member of the tenant"])
def test_someone_else_cannot_share_or_revoke_the_video(
    client: Client, owner: Client, run: Run, tenant: Tenant, other_tenant: Tenant, who: str
) -> None:
    path = share(owner, run)
    link = ShareLink.objects.get()
    if who == "other tenant's admin":
        client.force_login(member_of(other_tenant, "mallory", Membership.Role.ADMIN))
    else:
        client.force_login(member_of(tenant, "eve"))

    assert client.get(reverse("portal:share-links", args=[run.pk])).status_code == 404
    assert client.post(reverse("portal:share-links", args=[run.pk]), {"days": 7}).status_code == 404
    revoke = reverse("portal:share-revoke", args=[run.pk, link.pk])
    assert client.post(revoke).status_code == 404

    assert ShareLink.objects.count() == 1
    assert served(path) == [200, 200, 200]


def test_a_link_of_another_run_cannot_be_revoked_through_this_one(
    owner: Client, run: Run, tenant: Tenant, ada: Any
) -> None:
    other_run = finish_successfully(make_run(tenant, created_by=ada))
    path = share(owner, other_run)
    link = ShareLink.objects.get()

    response = owner.post(reverse("portal:share-revoke", args=[run.pk, link.pk]))

    assert response.status_code == 404
    assert served(path)[0] == 200
