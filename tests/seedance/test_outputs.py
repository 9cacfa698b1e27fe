"""Our own copy of every output: copied from Runflow over real HTTP, served only through
our signed, expiring links, kept for the tenant's retention, and found again by the
reconciler when its copy task was lost."""

from datetime import timedelta
from typing import Any

import httpx
import pytest
from django.core import signing
from django.core.files.storage import default_storage
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from seedance.models import OutputFile, Run, Tenant
from seedance.outputs import SIGNING_SALT, outputs_copy, outputs_purge_expired, signed_url
from seedance.sandbox import SandboxServer
from seedance.services.reconcile import reconcile_runs
from seedance.services.submission import run_submit
from seedance.states import RunStatus
from tests.factories import make_run
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


def test_reconcile_leaves_fresh_rejected_and_old_runs_alone(
    tenant: Tenant, sandbox: SandboxServer
) -> None:
    fresh = succeeded_run(tenant)
    rejected = succeeded_run(tenant)
    old = succeeded_run(tenant)
    Run.objects.filter(pk=rejected.pk).update(
        moderation=Run.Moderation.REJECTED, completed_at=timezone.now() - timedelta(minutes=10)
    )
    Run.objects.filter(pk=old.pk).update(completed_at=timezone.now() - timedelta(days=3))

    assert reconcile_runs().copied == 0

    assert not OutputFile.objects.filter(run__in=[fresh, rejected, old]).exists()
