"""The run page follows the run while it is open: the bar, the start, Runflow's reason for
a failure and an approved video all arrive through the status partial's poll, which stops
only once nothing more can change."""

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from seedance.accounts.identity import verified_email_set
from seedance.models import Membership, Run, Tenant
from seedance.moderation import run_approve
from seedance.outcomes import PROVIDER_FAILED
from seedance.sandbox import SandboxServer
from seedance.services.submission import run_submit
from seedance.states import RunStatus
from tests.factories import finish_successfully, make_run
from tests.seedance.conftest import wait_for_run

POLL = 'hx-trigger="every 2s"'


@pytest.fixture
def person(django_user_model: Any, tenant: Tenant) -> Any:
    user = django_user_model.objects.create_user("ada", "ada@example.com", "s3cret-pass!")
    verified_email_set(user=user, email="ada@example.com")
    Membership.objects.create(user=user, tenant=tenant, role=Membership.Role.MEMBER)
    return user


@pytest.fixture
def signed_in(client: Client, person: Any) -> Client:
    client.force_login(person)
    return client


def status_of(client: Client, run: Run) -> str:
    return client.get(reverse("portal:run-status", args=[run.pk])).content.decode()


def with_history(tenant: Tenant, seconds: int) -> None:
    """One finished run like the ones below, which took ``seconds``."""
    now = timezone.now()
    done = make_run(tenant, status=RunStatus.SUCCEEDED)
    Run.objects.filter(pk=done.pk).update(
        created_at=now - timedelta(hours=1),
        completed_at=now - timedelta(hours=1) + timedelta(seconds=seconds),
    )


def test_a_running_run_says_generating_since_its_start_and_its_bar_follows_the_eta(
    signed_in: Client, person: Any, tenant: Tenant
) -> None:
    with_history(tenant, 100)
    run = make_run(tenant, created_by=person, status=RunStatus.RUNNING)
    started = timezone.now() - timedelta(seconds=20)
    Run.objects.filter(pk=run.pk).update(
        created_at=timezone.now() - timedelta(seconds=40), started_at=started
    )
    html = status_of(signed_in, run)
    assert "Generating since <time" in html
    assert f"{started:%H:%M:%S}</time>" in html
    assert 'value="40"' in html
    assert 'data-typical-ms="100000"' in html
    assert POLL in html


def test_a_queued_run_shows_a_small_value_and_waits_to_start(
    signed_in: Client, person: Any, tenant: Tenant
) -> None:
    with_history(tenant, 100)
    run = make_run(tenant, created_by=person)
    html = status_of(signed_in, run)
    assert "Waiting to start" in html
    assert 'value="3"' in html


def test_a_held_run_keeps_polling_so_an_approved_video_appears(
    signed_in: Client, person: Any, tenant: Tenant
) -> None:
    run = finish_successfully(make_run(tenant, created_by=person), nsfw_detected=True)
    held = status_of(signed_in, run)
    assert 'id="run-held"' in held
    assert POLL in held
    run_approve(run_id=run.pk, decided_by=person)
    approved = status_of(signed_in, run)
    assert '<video id="run-video"' in approved
    assert POLL not in approved


def test_a_failure_without_runflows_reason_yet_asks_again_until_it_comes(
    signed_in: Client, person: Any, tenant: Tenant
) -> None:
    run = make_run(
        tenant,
        created_by=person,
        status=RunStatus.FAILED,
        failure_code=PROVIDER_FAILED,
        completed_at=timezone.now(),
    )
    assert POLL in status_of(signed_in, run)
    Run.objects.filter(pk=run.pk).update(
        failure_code="CONTENT_POLICY", failure_message="The prompt broke the content policy."
    )
    html = status_of(signed_in, run)
    assert "The prompt broke the content policy." in html
    assert POLL not in html


def test_an_old_failure_without_a_reason_stops_asking(
    signed_in: Client, person: Any, tenant: Tenant
) -> None:
    run = make_run(
        tenant,
        created_by=person,
        status=RunStatus.FAILED,
        failure_code=PROVIDER_FAILED,
        completed_at=timezone.now() - timedelta(hours=1),
    )
    assert POLL not in status_of(signed_in, run)


@pytest.mark.django_db(transaction=True)
def test_the_first_failed_render_carries_runflows_reason(
    signed_in: Client, person: Any, tenant: Tenant, sandbox: SandboxServer
) -> None:
    """The callback carries no reason; the GET it wakes does, and the terminal transition
    stores it, so the page never shows the bare fallback code."""
    run = make_run(tenant, created_by=person, resolution="480p", duration="4")
    sandbox.faults.set_for(
        str(run.pk),
        fail=True,
        failure_code="CONTENT_POLICY",
        failure_message="The prompt was refused by the content filter.",
    )
    run_submit(run.pk)
    wait_for_run(run)
    html = status_of(signed_in, run)
    assert "<code>CONTENT_POLICY</code>" in html
    assert "The prompt was refused by the content filter." in html
    assert POLL not in html
