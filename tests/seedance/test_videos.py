"""A member deletes a video they own (a tenant admin any of the tenant's): our copy and
its poster leave storage, the run stays with everything else it shows."""

from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.test import Client
from django.urls import reverse

from seedance.models import AuditEntry, Membership, OutputFile, Run, Tenant
from seedance.states import Delivery, RunStatus
from tests.factories import finish_successfully, make_person, make_run
from tests.posters import attach_poster

pytestmark = pytest.mark.django_db(transaction=True)  # files leave storage on commit


def member_of(tenant: Tenant, username: str, role: str = Membership.Role.MEMBER) -> Any:
    user = make_person(username, f"{username}@example.com")
    Membership.objects.create(user=user, tenant=tenant, role=role)
    return user


@pytest.fixture
def ada(tenant: Tenant) -> Any:
    return member_of(tenant, "ada")


@pytest.fixture
def run(tenant: Tenant, ada: Any) -> Run:
    run = finish_successfully(make_run(tenant, created_by=ada))
    attach_poster(run)
    return run


def stored_names(run: Run) -> list[str]:
    record = OutputFile.objects.get(run=run)
    return [record.file.name, record.poster.name]


def delete(client: Client, run: Run, **data: str) -> Any:
    return client.post(reverse("portal:video-delete", args=[run.pk]), data)


def test_members_delete_removes_our_copy_and_poster_and_keeps_the_run(
    client: Client, ada: Any, run: Run
) -> None:
    names = stored_names(run)
    assert all(default_storage.exists(name) for name in names)
    client.force_login(ada)

    response = delete(client, run, confirm="on")

    assert response.status_code == 302
    assert not any(default_storage.exists(name) for name in names)
    record = OutputFile.objects.get(run=run)
    assert record.deleted_at is not None
    assert record.file.name == ""
    assert record.poster.name == ""
    kept = Run.objects.get(pk=run.pk)
    assert kept.status == RunStatus.SUCCEEDED
    assert kept.delivery == Delivery.DELIVERED
    assert kept.prompt == run.prompt
    page = client.get(reverse("portal:run-detail", args=[run.pk])).text
    assert 'id="run-expired"' in page
    assert 'id="run-video"' not in page


def test_delete_asks_for_confirmation_first(client: Client, ada: Any, run: Run) -> None:
    client.force_login(ada)

    page = client.get(reverse("portal:video-delete", args=[run.pk]))
    unconfirmed = delete(client, run)

    assert page.status_code == 200
    assert 'name="confirm"' in page.text
    assert "csrfmiddlewaretoken" in page.text
    assert unconfirmed.status_code == 400
    assert "Tick to confirm." in unconfirmed.text
    assert all(default_storage.exists(name) for name in stored_names(run))


def test_delete_without_the_csrf_token_is_refused(ada: Any, run: Run) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(ada)

    assert delete(client, run, confirm="on").status_code == 403
    assert OutputFile.objects.get(run=run).deleted_at is None


def test_delete_is_audited(client: Client, ada: Any, run: Run, tenant: Tenant) -> None:
    client.force_login(ada)

    delete(client, run, confirm="on")

    entry = AuditEntry.objects.get(action=AuditEntry.Action.VIDEO_DELETED)
    assert entry.actor == ada
    assert entry.tenant == tenant
    assert entry.details == {"run_id": str(run.pk), "files": 1}


def test_a_tenant_admin_deletes_any_video_of_the_tenant(
    client: Client, run: Run, tenant: Tenant
) -> None:
    client.force_login(member_of(tenant, "grace", Membership.Role.ADMIN))

    delete(client, run, confirm="on")

    assert OutputFile.objects.get(run=run).deleted_at is not None
    entry = AuditEntry.objects.get(action=AuditEntry.Action.VIDEO_DELETED)
    assert entry.actor_role == AuditEntry.ActorRole.TENANT_ADMIN


@pytest.mark.parametrize("who", ["other tenant's admin", "another member of the tenant"])
def test_someone_else_cannot_delete_the_video(
    client: Client, run: Run, tenant: Tenant, other_tenant: Tenant, who: str
) -> None:
    if who == "other tenant's admin":
        client.force_login(member_of(other_tenant, "mallory", Membership.Role.ADMIN))
    else:
        client.force_login(member_of(tenant, "eve"))

    assert client.get(reverse("portal:video-delete", args=[run.pk])).status_code == 404
    assert delete(client, run, confirm="on").status_code == 404

    assert OutputFile.objects.get(run=run).deleted_at is None
    assert all(default_storage.exists(name) for name in stored_names(run))
