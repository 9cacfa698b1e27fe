"""The review queue in the Django admin: platform staff only, decisions with a reason
through a confirmation page, an audit trail, a staff-only player, constant queries."""

from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from seedance.models import Membership, ModerationDecision, OutputFile, Run, Tenant
from seedance.outcomes import Outcome
from seedance.states import RunStatus
from seedance.transitions import run_finish
from tests.conftest import totp_enrol
from tests.factories import make_run

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/seedance/run/"
REVIEW_QUEUE = CHANGELIST + "?moderation=pending"
VIDEO = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 8
OUTPUT = {"url": "u", "type": "video/mp4", "width": 854, "height": 480, "duration": 4.0}


def held_run(tenant: Tenant, *, prompt: str = "a beach at noon", stored: bool = True) -> Run:
    run = make_run(tenant, prompt=prompt)
    done = run_finish(
        run.pk,
        Outcome(
            status=RunStatus.SUCCEEDED,
            outputs=[OUTPUT],
            nsfw_detected=True,
            cost=Decimal("0.5"),
            completed_at=timezone.now(),
        ),
    )
    assert done is not None
    assert done.moderation == Run.Moderation.PENDING
    if stored:
        name = default_storage.save(f"outputs/{run.pk}-0.mp4", ContentFile(VIDEO))
        OutputFile.objects.create(
            run=done, index=0, file=name, size=len(VIDEO), copied_at=timezone.now()
        )
    return done


@pytest.fixture
def reviewer(db: None) -> User:
    """Platform staff with the run permissions a reviewer group would grant."""
    user = User.objects.create_user("reviewer", password="pw-reviewer", is_staff=True)
    totp_enrol(user)
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="seedance", codename__in=["view_run", "change_run"]
        )
    )
    return user


@pytest.fixture
def staff_client(reviewer: User) -> Client:
    client = Client()
    client.force_login(reviewer)
    return client


@pytest.fixture
def tenant_admin_client(tenant: Tenant) -> Client:
    """A tenant's own admin: a plain user, never platform staff."""
    user = User.objects.create_user("tenant-admin", password="pw-tenant")
    Membership.objects.create(user=user, tenant=tenant, role=Membership.Role.ADMIN)
    client = Client()
    client.force_login(user)
    return client


def file_url(record: OutputFile) -> str:
    return reverse("admin:seedance_run_file", kwargs={"file_id": record.pk})


def choose(client: Client, action: str, runs: list[Run], url: str = REVIEW_QUEUE) -> Any:
    """Pick runs on the changelist and an action: answers the confirmation page."""
    return client.post(
        url, {"action": action, "_selected_action": [str(r.pk) for r in runs], "index": 0}
    )


def confirm(client: Client, action: str, runs: list[Run], reason: str) -> Any:
    """Submit the confirmation page's form, as the browser would."""
    return client.post(
        REVIEW_QUEUE,
        {
            "action": action,
            "_selected_action": [str(r.pk) for r in runs],
            "confirm": "yes",
            "reason": reason,
        },
        follow=True,
    )


# Who sees the queue ----------------------------------------------------------------------


def test_staff_see_the_review_queue_newest_first(tenant: Tenant, staff_client: Client) -> None:
    older = held_run(tenant, prompt="older held run")
    newer = held_run(tenant, prompt="newer held run")
    clean = make_run(tenant, prompt="a run nobody flagged")

    response = staff_client.get(REVIEW_QUEUE)

    assert response.status_code == 200
    page = response.content.decode()
    assert "newer held run" in page
    assert "older held run" in page
    assert "a run nobody flagged" not in page
    assert page.index("newer held run") < page.index("older held run")
    assert list(response.context["cl"].result_list) == [newer, older]
    assert clean not in response.context["cl"].result_list


def test_review_queue_link_and_shortcut_lead_to_pending_runs(
    tenant: Tenant, staff_client: Client
) -> None:
    held_run(tenant)

    listing = staff_client.get(CHANGELIST).content.decode()
    shortcut = staff_client.get("/admin/seedance/run/review/")

    assert 'id="review-queue-link"' in listing
    assert 'Review queue (<span class="count">1</span> pending)' in listing
    assert shortcut.status_code == 302
    assert shortcut["Location"] == REVIEW_QUEUE


def test_changelist_shows_a_small_muted_player_fed_by_the_staff_view(
    tenant: Tenant, staff_client: Client
) -> None:
    run = held_run(tenant)
    record = OutputFile.objects.get(run=run)

    page = staff_client.get(REVIEW_QUEUE).content.decode()

    assert f'<video class="moderation-player" src="{file_url(record)}#t=0.1" muted controls' in page
    assert 'preload="metadata"' in page
    assert str(tenant) in page


@pytest.mark.parametrize("url", [CHANGELIST, REVIEW_QUEUE, "/admin/"])
def test_non_staff_user_is_redirected_to_the_admin_login(
    tenant: Tenant, tenant_admin_client: Client, url: str
) -> None:
    held_run(tenant)

    response = tenant_admin_client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_anonymous_visitor_is_redirected_to_the_admin_login(tenant: Tenant) -> None:
    response = Client().get(REVIEW_QUEUE)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


# Decisions through the confirmation page --------------------------------------------------


def test_approve_action_asks_for_a_reason_on_a_confirmation_page(
    tenant: Tenant, staff_client: Client
) -> None:
    runs = [held_run(tenant), held_run(tenant)]

    response = choose(staff_client, "approve_selected", runs)

    assert response.status_code == 200
    page = response.content.decode()
    assert '<textarea name="reason"' in page
    assert 'id="id_reason"' in page
    assert 'id="moderation-confirm"' in page
    assert all(
        Run.objects.get(pk=r.pk).moderation == Run.Moderation.PENDING for r in runs
    )  # nothing decided yet
    assert not ModerationDecision.objects.exists()


def test_approve_action_with_a_reason_approves_and_records_decisions(
    tenant: Tenant, staff_client: Client, reviewer: User
) -> None:
    runs = [held_run(tenant), held_run(tenant)]

    response = confirm(staff_client, "approve_selected", runs, "beachwear, allowed")

    assert response.status_code == 200
    assert "Approved 2 runs." in response.content.decode()
    for run in runs:
        run.refresh_from_db()
        assert run.moderation == Run.Moderation.APPROVED
        decision = ModerationDecision.objects.get(run=run)
        assert (decision.decision, decision.decided_by, decision.reason) == (
            "approved",
            reviewer,
            "beachwear, allowed",
        )


def test_reject_action_with_a_reason_rejects_deletes_and_records_decisions(
    tenant: Tenant, staff_client: Client, reviewer: User, django_capture_on_commit_callbacks: Any
) -> None:
    run = held_run(tenant)
    record = OutputFile.objects.get(run=run)

    with django_capture_on_commit_callbacks(execute=True):
        response = confirm(staff_client, "reject_selected", [run], "explicit content")

    assert "Rejected 1 run." in response.content.decode()
    run.refresh_from_db()
    assert run.moderation == Run.Moderation.REJECTED
    decision = ModerationDecision.objects.get(run=run)
    assert (decision.decision, decision.decided_by, decision.reason) == (
        "rejected",
        reviewer,
        "explicit content",
    )
    assert not default_storage.exists(record.file.name)


def test_decision_without_a_reason_is_refused_and_changes_nothing(
    tenant: Tenant, staff_client: Client
) -> None:
    run = held_run(tenant)

    response = confirm(staff_client, "reject_selected", [run], "   ")

    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    run.refresh_from_db()
    assert run.moderation == Run.Moderation.PENDING
    assert not ModerationDecision.objects.exists()


def test_run_no_longer_pending_is_skipped_and_reported(
    tenant: Tenant, staff_client: Client, reviewer: User
) -> None:
    decided, waiting = held_run(tenant), held_run(tenant)
    Run.objects.filter(pk=decided.pk).update(moderation=Run.Moderation.APPROVED)

    page = choose(staff_client, "reject_selected", [decided, waiting], url=CHANGELIST)
    assert "will be skipped" in page.content.decode()
    response = confirm(staff_client, "reject_selected", [decided, waiting], "explicit")

    text = response.content.decode()
    assert "Rejected 1 run." in text
    assert "Skipped 1 run: no longer pending review." in text
    decided.refresh_from_db()
    assert decided.moderation == Run.Moderation.APPROVED
    assert list(ModerationDecision.objects.values_list("run", flat=True)) == [waiting.pk]


def test_staff_without_change_permission_get_no_decision_actions(
    tenant: Tenant, reviewer: User
) -> None:
    reviewer.user_permissions.remove(Permission.objects.get(codename="change_run"))
    client = Client()
    client.force_login(reviewer)
    run = held_run(tenant)

    page = client.get(REVIEW_QUEUE).content.decode()
    confirm(client, "approve_selected", [run], "fine")

    assert "approve_selected" not in page
    run.refresh_from_db()
    assert run.moderation == Run.Moderation.PENDING


# The run page: audit trail, read-only provider fields ------------------------------------


def test_run_change_page_shows_the_audit_trail_read_only(
    tenant: Tenant, staff_client: Client
) -> None:
    run = held_run(tenant)
    confirm(staff_client, "approve_selected", [run], "swimwear, not nudity")

    response = staff_client.get(f"/admin/seedance/run/{run.pk}/change/")

    page = response.content.decode()
    assert response.status_code == 200
    assert "swimwear, not nudity" in page
    assert "reviewer" in page
    assert 'name="provider_run_id"' not in page  # shown, never editable
    assert 'name="moderation"' not in page
    assert 'name="moderation_decisions-0-reason"' not in page


# The changelist's cost does not grow with its rows ---------------------------------------


def changelist_queries(client: Client) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(REVIEW_QUEUE)
    assert response.status_code == 200
    return len(captured)


def test_review_queue_uses_a_constant_number_of_queries(
    tenant: Tenant, other_tenant: Tenant, staff_client: Client
) -> None:
    held_run(tenant)
    one = changelist_queries(staff_client)
    for index in range(14):
        held_run(other_tenant if index % 2 else tenant)

    fifteen = changelist_queries(staff_client)

    assert fifteen == one
    assert staff_client.get(REVIEW_QUEUE).content.decode().count("<video") == 15


# The staff-only file view ---------------------------------------------------------------


def test_staff_file_view_serves_a_held_runs_file_to_staff(
    tenant: Tenant, staff_client: Client
) -> None:
    record = OutputFile.objects.get(run=held_run(tenant))

    whole = staff_client.get(file_url(record))
    part = staff_client.get(file_url(record), headers={"Range": "bytes=0-99"})

    assert whole.status_code == 200
    assert whole["Content-Type"] == "video/mp4"
    assert b"".join(whole.streaming_content) == VIDEO
    assert part.status_code == 206
    assert part.content == VIDEO[:100]


def test_staff_file_view_refuses_non_staff(tenant: Tenant, tenant_admin_client: Client) -> None:
    record = OutputFile.objects.get(run=held_run(tenant))

    for client in (tenant_admin_client, Client()):
        response = client.get(file_url(record))
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")


def test_staff_file_view_never_serves_a_deleted_file(tenant: Tenant, staff_client: Client) -> None:
    record = OutputFile.objects.get(run=held_run(tenant))
    OutputFile.objects.filter(pk=record.pk).update(deleted_at=timezone.now())

    assert staff_client.get(file_url(record)).status_code == 404
