"""NSFW moderation: flagged videos are held until staff decide; a held video is unreachable
by API, signed link and media path; approval releases it; rejection deletes it for good."""

from typing import Any

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from seedance.models import ModerationDecision, OutputFile, Run, Tenant
from seedance.moderation import run_approve, run_reject
from seedance.outcomes import Outcome
from seedance.outputs import outputs_copy, signed_url
from seedance.sandbox import SandboxServer
from seedance.services.submission import run_submit
from seedance.states import RunStatus
from seedance.transitions import run_finish
from tests.factories import finish_successfully, make_run
from tests.seedance.conftest import wait_for_run

OUTPUT = {"url": "u", "type": "video/mp4", "width": 854, "height": 480, "duration": 4.0}


def finished(tenant: Tenant, nsfw_detected: bool | None) -> Run:
    """Finished, its copy left to each test (delivery is the copy task's business)."""
    return finish_successfully(
        make_run(tenant), nsfw_detected=nsfw_detected, output=OUTPUT, cost="0.5", delivered=False
    )


@pytest.fixture
def staff(db: None) -> User:
    return User.objects.create_user("reviewer", is_staff=True)


def hold_unchecked(settings: Any, on: bool) -> None:
    settings.SEEDANCE = {**settings.SEEDANCE, "HOLD_UNCHECKED": on}


# The hold policy -----------------------------------------------------------------------


@pytest.mark.django_db
def test_run_finished_with_nsfw_true_is_held_for_review(tenant: Tenant) -> None:
    assert finished(tenant, nsfw_detected=True).moderation == Run.Moderation.PENDING


@pytest.mark.django_db
def test_clean_run_is_not_held(tenant: Tenant) -> None:
    assert finished(tenant, nsfw_detected=False).moderation == Run.Moderation.NONE


@pytest.mark.django_db
def test_unchecked_run_is_held_when_hold_unchecked_is_on(tenant: Tenant, settings: Any) -> None:
    hold_unchecked(settings, on=True)
    assert finished(tenant, nsfw_detected=None).moderation == Run.Moderation.PENDING


@pytest.mark.django_db
def test_unchecked_run_is_not_held_when_hold_unchecked_is_off(
    tenant: Tenant, settings: Any
) -> None:
    hold_unchecked(settings, on=False)
    assert finished(tenant, nsfw_detected=None).moderation == Run.Moderation.NONE


@pytest.mark.django_db
def test_failed_run_is_never_held(tenant: Tenant) -> None:
    run = make_run(tenant)
    done = run_finish(run.pk, Outcome(status=RunStatus.FAILED, failure_code="x"))
    assert done is not None
    assert done.moderation == Run.Moderation.NONE


# Acceptance 2: a held video is unreachable until approved; after rejection it is gone ----


def held_run_with_copy(tenant: Tenant) -> tuple[Run, OutputFile]:
    """A flagged run, made over real HTTP by the sandbox, with our copy in storage."""
    run = make_run(tenant, prompt="a beach at noon [sandbox:nsfw]", resolution="480p", duration="4")
    run_submit(run.pk)
    run = wait_for_run(run)
    assert run.status == RunStatus.SUCCEEDED
    assert run.moderation == Run.Moderation.PENDING
    assert outputs_copy(run.pk) == 1  # staff need our copy to review it
    return run, OutputFile.objects.get(run=run)


def api_output(api_client: APIClient, run: Run) -> dict[str, Any]:
    output: dict[str, Any] = api_client.get(f"/api/v1/runs/{run.pk}").json()["output"]
    return output


def media_path(record: OutputFile) -> str:
    return "/" + django_settings.MEDIA_URL.strip("/") + "/" + record.file.name


@pytest.mark.django_db(transaction=True)
def test_held_output_is_unreachable_by_api_signed_link_and_media_path(
    tenant: Tenant, sandbox: SandboxServer, api_client: APIClient
) -> None:
    run, record = held_run_with_copy(tenant)
    assert default_storage.exists(record.file.name)

    output = api_output(api_client, run)
    assert output["withheld"] == "pending_review"
    assert output["outputs"] == []
    assert "/files/" not in str(output)
    assert Client().get(signed_url(record)).status_code == 404
    assert Client().get(media_path(record)).status_code == 404


@pytest.mark.django_db(transaction=True)
def test_approved_run_shows_a_working_link(
    tenant: Tenant, sandbox: SandboxServer, api_client: APIClient, staff: User
) -> None:
    run, record = held_run_with_copy(tenant)
    previously_issued = signed_url(record)

    assert run_approve_by(staff, run, "artistic nudity, allowed by the tenant's terms")

    output = api_output(api_client, run)
    assert output["withheld"] is None
    url = output["outputs"][0]["url"]
    assert "/files/" in url
    response = Client().get(url.removeprefix("http://testserver"))
    assert response.status_code == 200
    assert response["Content-Type"] == "video/mp4"
    assert Client().get(previously_issued).status_code == 200
    assert Client().get(media_path(record)).status_code == 404  # still never served raw


@pytest.mark.django_db(transaction=True)
def test_rejected_runs_file_is_deleted_and_never_served_again(
    tenant: Tenant, sandbox: SandboxServer, api_client: APIClient, staff: User
) -> None:
    run, record = held_run_with_copy(tenant)
    link = signed_url(record)

    assert run_reject_by(staff, run, "explicit content")

    record.refresh_from_db()
    assert record.deleted_at is not None
    assert not default_storage.exists(record.file.name)
    assert Client().get(link).status_code == 404
    output = api_output(api_client, run)
    assert output["withheld"] == "rejected"
    assert output["outputs"] == []
    assert outputs_copy(run.pk) == 0  # a later copy task never brings it back
    assert not default_storage.exists(record.file.name)


def run_approve_by(staff: User, run: Run, reason: str) -> bool:
    return run_approve(run_id=run.pk, decided_by=staff, reason=reason)


def run_reject_by(staff: User, run: Run, reason: str) -> bool:
    return run_reject(run_id=run.pk, decided_by=staff, reason=reason)


# Decisions -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_decision_on_a_run_not_pending_changes_nothing(tenant: Tenant, staff: User) -> None:
    clean = finished(tenant, nsfw_detected=False)
    approved = finished(tenant, nsfw_detected=True)
    assert run_approve_by(staff, approved, "fine")

    assert not run_approve_by(staff, clean, "again")
    assert not run_reject_by(staff, clean, "no")
    assert not run_reject_by(staff, approved, "changed my mind")

    clean.refresh_from_db()
    approved.refresh_from_db()
    assert clean.moderation == Run.Moderation.NONE
    assert approved.moderation == Run.Moderation.APPROVED
    assert list(ModerationDecision.objects.values_list("run", "decision")) == [
        (approved.pk, "approved")
    ]


@pytest.mark.django_db
def test_rejecting_an_approved_run_keeps_its_file(tenant: Tenant, staff: User) -> None:
    run = finished(tenant, nsfw_detected=True)
    name = default_storage.save("outputs/kept.mp4", ContentFile(b"video"))
    OutputFile.objects.create(run=run, index=0, file=name, copied_at=timezone.now())
    run_approve_by(staff, run, "fine")

    assert not run_reject_by(staff, run, "no")

    assert default_storage.exists(name)
    assert OutputFile.objects.get(run=run).deleted_at is None


@pytest.mark.django_db
def test_decisions_are_recorded_with_who_when_and_why(tenant: Tenant, staff: User) -> None:
    other = User.objects.create_user("second-reviewer", is_staff=True)
    approved = finished(tenant, nsfw_detected=True)
    rejected = finished(tenant, nsfw_detected=True)
    before = timezone.now()

    run_approve_by(staff, approved, "swimwear, not nudity")
    run_reject_by(other, rejected, "graphic violence")

    first = ModerationDecision.objects.get(run=approved)
    second = ModerationDecision.objects.get(run=rejected)
    assert (first.decision, first.decided_by, first.reason) == (
        "approved",
        staff,
        "swimwear, not nudity",
    )
    assert (second.decision, second.decided_by, second.reason) == (
        "rejected",
        other,
        "graphic violence",
    )
    assert before <= first.decided_at <= timezone.now()


@pytest.mark.django_db(transaction=True)
def test_rejection_rolled_back_keeps_the_file(tenant: Tenant, staff: User) -> None:
    run = finished(tenant, nsfw_detected=True)
    name = default_storage.save("outputs/held.mp4", ContentFile(b"video"))
    OutputFile.objects.create(run=run, index=0, file=name, copied_at=timezone.now())

    with pytest.raises(Abort):
        reject_then_fail(staff, run)

    assert default_storage.exists(name)
    run.refresh_from_db()
    assert run.moderation == Run.Moderation.PENDING
    assert not ModerationDecision.objects.filter(run=run).exists()


@pytest.mark.django_db(transaction=True)
def test_committed_rejection_deletes_the_file(tenant: Tenant, staff: User) -> None:
    run = finished(tenant, nsfw_detected=True)
    name = default_storage.save("outputs/held.mp4", ContentFile(b"video"))
    OutputFile.objects.create(run=run, index=0, file=name, copied_at=timezone.now())

    assert run_reject_by(staff, run, "explicit")

    assert not default_storage.exists(name)


class Abort(Exception):
    pass


def reject_then_fail(staff: User, run: Run) -> None:
    with transaction.atomic():
        run_reject_by(staff, run, "explicit")
        raise Abort
