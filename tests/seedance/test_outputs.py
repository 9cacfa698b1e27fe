"""Our own copy of every output: copied from Runflow over real HTTP, served only through
our signed, expiring links, kept for the tenant's retention, and found again by the
reconciler when its copy task was lost."""

import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.core import signing
from django.core.files.storage import default_storage
from django.db import connection
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from seedance.delivery import next_attempt_at
from seedance.models import OutputFile, Run, Tenant
from seedance.outputs import SIGNING_SALT, outputs_copy, outputs_purge_expired, signed_url
from seedance.sandbox import SandboxServer
from seedance.services.reconcile import reconcile_runs
from seedance.services.submission import run_submit
from seedance.states import Delivery, RunStatus
from seedance.transitions import run_mark_delivered, run_mark_undeliverable
from tests.factories import VIDEO_720P, finish_successfully, make_run
from tests.seedance.conftest import wait_for_run

pytestmark = pytest.mark.django_db(transaction=True)


def succeeded_run(tenant: Tenant, prompt: str = "a harbour at dawn, gulls") -> Run:
    run = make_run(tenant, prompt=prompt, resolution="480p", duration="4")
    run_submit(run.pk)
    run = wait_for_run(run)
    assert run.status == RunStatus.SUCCEEDED
    return run


def provider_bytes(run: Run) -> bytes:
    response = httpx.get(run.outputs[0]["url"], timeout=10)
    response.raise_for_status()
    return response.content


def body_of(response: Any) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return bytes(response.content)


def test_succeeded_runs_outputs_are_copied_into_our_storage_and_served_by_our_link(
    tenant: Tenant, sandbox: SandboxServer
) -> None:
    run = succeeded_run(tenant)

    assert outputs_copy(run.pk) == 1

    record = OutputFile.objects.get(run=run)
    assert record.copied_at is not None
    assert default_storage.exists(record.file.name)
    original = provider_bytes(run)
    assert record.size == len(original)
    response = Client().get(signed_url(record))
    assert response.status_code == 200
    assert response["Content-Type"] == "video/mp4"
    assert body_of(response) == original


def test_range_request_on_our_link_answers_206_with_just_those_bytes(
    tenant: Tenant, sandbox: SandboxServer
) -> None:
    run = succeeded_run(tenant)
    outputs_copy(run.pk)
    record = OutputFile.objects.get(run=run)

    response = Client().get(signed_url(record), headers={"Range": "bytes=0-99"})

    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes 0-99/{record.size}"
    assert body_of(response) == provider_bytes(run)[:100]


def test_api_output_url_is_our_signed_link_never_the_providers(
    tenant: Tenant, sandbox: SandboxServer, api_client: APIClient
) -> None:
    run = succeeded_run(tenant)
    outputs_copy(run.pk)

    body = api_client.get(f"/api/v1/runs/{run.pk}").json()

    url = body["output"]["outputs"][0]["url"]
    assert "/files/" in url
    assert sandbox.url not in url
    assert run.outputs[0]["url"] not in str(body)
    assert Client().get(url.removeprefix("http://testserver")).status_code == 200


def test_forged_token_is_404(tenant: Tenant, sandbox: SandboxServer) -> None:
    run = succeeded_run(tenant)
    outputs_copy(run.pk)
    record = OutputFile.objects.get(run=run)
    forged = signing.dumps(str(record.pk), salt=SIGNING_SALT, key="not-our-secret-key")

    assert Client().get(f"/files/{forged}/").status_code == 404
    assert Client().get(signed_url(record)[:-3] + "xyz/").status_code == 404


def test_a_link_signed_before_a_key_rotation_serves_while_the_old_key_is_a_fallback(
    tenant: Tenant, sandbox: SandboxServer, settings: Any
) -> None:
    run = succeeded_run(tenant)
    outputs_copy(run.pk)
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "old-key-" + "a" * 50, []
    link = signed_url(OutputFile.objects.get(run=run))

    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = (
        "new-key-" + "b" * 50,
        ["old-key-" + "a" * 50],
    )
    assert Client().get(link).status_code == 200

    settings.SECRET_KEY_FALLBACKS = []
    assert Client().get(link).status_code == 404


def test_expired_token_is_404(tenant: Tenant, sandbox: SandboxServer, settings: Any) -> None:
    run = succeeded_run(tenant)
    outputs_copy(run.pk)
    link = signed_url(OutputFile.objects.get(run=run))
    assert Client().get(link).status_code == 200

    settings.SEEDANCE = {**settings.SEEDANCE, "OUTPUT_URL_TTL_SECONDS": -1}

    assert Client().get(link).status_code == 404


def test_copying_twice_is_idempotent_one_file(tenant: Tenant, sandbox: SandboxServer) -> None:
    run = succeeded_run(tenant)

    assert outputs_copy(run.pk) == 1
    assert outputs_copy(run.pk) == 0

    record = OutputFile.objects.get(run=run)
    stored = default_storage.listdir(str(record.file.name).rsplit("/", 1)[0])[1]
    assert stored == [record.file.name.rsplit("/", 1)[1]]


def test_tenant_retention_sets_expires_at_and_purge_deletes_the_file_and_its_link_404s(
    tenant: Tenant, sandbox: SandboxServer, api_client: APIClient
) -> None:
    Tenant.objects.filter(pk=tenant.pk).update(output_retention_days=3)
    run = succeeded_run(tenant)
    outputs_copy(run.pk)
    record = OutputFile.objects.get(run=run)
    assert record.copied_at is not None
    assert record.expires_at == record.copied_at + timedelta(days=3)
    shown = api_client.get(f"/api/v1/runs/{run.pk}").json()["output"]["outputs"][0]
    assert shown["expires_at"] is not None
    link = signed_url(record)

    assert outputs_purge_expired(now=timezone.now() + timedelta(days=2)) == 0
    assert Client().get(link).status_code == 200
    assert outputs_purge_expired(now=timezone.now() + timedelta(days=4)) == 1

    record.refresh_from_db()
    assert record.deleted_at is not None
    assert not default_storage.exists(record.file.name)
    assert Client().get(link).status_code == 404


def test_no_retention_means_no_expiry(tenant: Tenant, sandbox: SandboxServer) -> None:
    run = succeeded_run(tenant)
    outputs_copy(run.pk)

    assert OutputFile.objects.get(run=run).expires_at is None
    assert outputs_purge_expired(now=timezone.now() + timedelta(days=3650)) == 0


def test_reconcile_copies_a_run_whose_copy_task_was_lost(
    tenant: Tenant, sandbox: SandboxServer
) -> None:
    run = succeeded_run(tenant)
    assert not OutputFile.objects.filter(run=run).exists()  # the queued copy never ran
    Run.objects.filter(pk=run.pk).update(completed_at=timezone.now() - timedelta(minutes=10))

    report = reconcile_runs()

    assert report.copied == 1
    record = OutputFile.objects.get(run=run)
    assert record.copied_at is not None
    assert default_storage.exists(record.file.name)
    assert reconcile_runs().copied == 0


def test_reconcile_leaves_a_fresh_run_to_its_own_copy_task(
    tenant: Tenant, sandbox: SandboxServer
) -> None:
    fresh = succeeded_run(tenant)

    assert reconcile_runs().copied == 0

    assert not OutputFile.objects.filter(run=fresh).exists()
    assert Run.objects.get(pk=fresh.pk).delivery == Delivery.PENDING


def test_reconcile_gives_up_on_a_run_rejected_before_its_copy_and_on_one_past_the_window(
    tenant: Tenant, sandbox: SandboxServer
) -> None:
    rejected = succeeded_run(tenant)
    old = succeeded_run(tenant)
    Run.objects.filter(pk=rejected.pk).update(
        moderation=Run.Moderation.REJECTED, completed_at=timezone.now() - timedelta(minutes=10)
    )
    Run.objects.filter(pk=old.pk).update(completed_at=timezone.now() - timedelta(days=3))

    assert reconcile_runs().copied == 0

    assert not OutputFile.objects.filter(run__in=[rejected, old]).exclude(file="").exists()
    for run, reason in ((rejected, "rejected in review"), (old, "not copied within")):
        run.refresh_from_db()
        assert run.delivery == Delivery.UNAVAILABLE
        assert run.status == RunStatus.SUCCEEDED
        assert reason in run.delivery_error


# --- delivery: the copy decides it, by the retry rule in seedance/delivery.py ----------


def test_a_copy_of_every_output_marks_the_run_delivered(
    tenant: Tenant, sandbox: SandboxServer
) -> None:
    run = succeeded_run(tenant)
    assert run.delivery == Delivery.PENDING

    outputs_copy(run.pk)

    run.refresh_from_db()
    assert run.delivery == Delivery.DELIVERED
    assert run.delivered_at is not None
    assert run.delivery_attempts == 1
    assert run.next_delivery_at is None


@pytest.mark.parametrize("status", [403, 404, 410])
def test_a_source_4xx_makes_the_outputs_unavailable_at_once(
    tenant: Tenant, sandbox: SandboxServer, status: int
) -> None:
    run = succeeded_run(tenant)
    sandbox.faults.set_for(str(run.pk), media_errors=[status])

    assert outputs_copy(run.pk) == 0

    run.refresh_from_db()
    assert run.delivery == Delivery.UNAVAILABLE
    assert run.delivery_attempts == 1
    assert f"HTTP {status}" in run.delivery_error
    assert not OutputFile.objects.filter(run=run, copied_at__isnull=False).exists()


@pytest.mark.parametrize("status", [429, 500, 503])
def test_a_source_5xx_or_429_is_tried_again_when_due_then_delivered(
    tenant: Tenant, sandbox: SandboxServer, status: int
) -> None:
    run = succeeded_run(tenant)
    sandbox.faults.set_for(str(run.pk), media_errors=[status])

    assert outputs_copy(run.pk) == 0
    run.refresh_from_db()
    assert run.delivery == Delivery.PENDING
    assert run.next_delivery_at is not None
    assert run.next_delivery_at > timezone.now()
    assert outputs_copy(run.pk) == 0  # not due yet: a duplicate task changes nothing
    assert Run.objects.get(pk=run.pk).delivery_attempts == 1

    report = reconcile_runs(now=run.next_delivery_at + timedelta(seconds=1))

    assert report.copied == 1
    run.refresh_from_db()
    assert run.delivery == Delivery.DELIVERED
    assert run.delivery_attempts == 2


def test_copy_gives_up_after_the_configured_attempts(
    tenant: Tenant, sandbox: SandboxServer, settings: Any
) -> None:
    settings.SEEDANCE = {**settings.SEEDANCE, "OUTPUT_COPY_MAX_ATTEMPTS": 2}
    run = succeeded_run(tenant)
    sandbox.faults.set_for(str(run.pk), media_errors=[503, 503, 503])

    outputs_copy(run.pk)
    run.refresh_from_db()
    assert run.delivery == Delivery.PENDING
    outputs_copy(run.pk, now=run.next_delivery_at)

    run.refresh_from_db()
    assert run.delivery == Delivery.UNAVAILABLE
    assert run.delivery_attempts == 2
    assert "gave up after 2 copy attempts" in run.delivery_error
    assert "HTTP 503" in run.delivery_error


def test_the_retry_delay_doubles_up_to_its_ceiling(settings: Any) -> None:
    settings.SEEDANCE = {
        **settings.SEEDANCE,
        "OUTPUT_COPY_RETRY_BASE_SECONDS": 60,
        "OUTPUT_COPY_RETRY_MAX_SECONDS": 300,
    }
    now = timezone.now()

    delays = [(next_attempt_at(n, now) - now).total_seconds() for n in range(1, 6)]

    assert delays == [60, 120, 240, 300, 300]


def test_an_output_over_the_size_limit_is_unavailable(
    tenant: Tenant, sandbox: SandboxServer, settings: Any
) -> None:
    settings.SEEDANCE = {**settings.SEEDANCE, "OUTPUT_MAX_BYTES": 1000}
    run = succeeded_run(tenant)

    outputs_copy(run.pk)

    run.refresh_from_db()
    assert run.delivery == Delivery.UNAVAILABLE
    assert "over 1000 bytes" in run.delivery_error


def test_an_output_url_we_may_not_fetch_is_unavailable_without_a_request(tenant: Tenant) -> None:
    run = finish_successfully(
        make_run(tenant),
        output={**VIDEO_720P, "url": "http://169.254.169.254/latest/meta-data"},
        delivered=False,
    )

    outputs_copy(run.pk)

    run.refresh_from_db()
    assert run.delivery == Delivery.UNAVAILABLE
    assert "no URL we may fetch" in run.delivery_error


def test_a_copy_landing_after_delivery_was_given_up_is_discarded(
    tenant: Tenant, sandbox: SandboxServer, settings: Any
) -> None:
    run = succeeded_run(tenant)
    sandbox.faults.set_for(str(run.pk), media_delay=1.0)

    def copy() -> None:
        try:
            outputs_copy(run.pk)
        finally:
            connection.close()

    copier = threading.Thread(target=copy)
    copier.start()
    time.sleep(0.3)  # the copy is waiting on the slow source
    assert run_mark_undeliverable(run.pk, reason="given up by staff")
    copier.join()

    run.refresh_from_db()
    assert run.delivery == Delivery.UNAVAILABLE
    record = OutputFile.objects.get(run=run)
    assert record.copied_at is None
    assert list(Path(settings.MEDIA_ROOT).rglob(f"{run.pk}*")) == []
    assert not run_mark_delivered(run.pk)
