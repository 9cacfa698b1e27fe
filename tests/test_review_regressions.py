"""Rules the portal review found broken once: each stays fixed."""

from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from billing.models import TenantPrice, UsageRecord
from seedance.models import Membership, OutputFile, Run
from seedance.moderation import run_reject
from seedance.outputs import fetchable, safe_video_type, signed_url
from tests.billing.factories import billable_run

PASSWORD = "pw-for-tests-123"


@pytest.fixture
def member(tenant: Any, django_user_model: Any) -> Any:
    user = django_user_model.objects.create_user("mia", "mia@example.com", PASSWORD)
    Membership.objects.create(user=user, tenant=tenant, role=Membership.Role.ADMIN)
    return user


def stored_copy(run: Run, content: bytes = b"\x00\x00\x00\x18ftypmp42") -> OutputFile:
    record = OutputFile.objects.create(run=run, index=0, copied_at=timezone.now())
    record.file.save("clip.mp4", ContentFile(content))
    return record


def test_staff_without_permission_to_view_runs_gets_no_held_video(
    tenant: Any, client: Any, django_user_model: Any
) -> None:
    run = billable_run(tenant)
    Run.objects.filter(pk=run.pk).update(moderation=Run.Moderation.PENDING)
    record = stored_copy(run)
    url = reverse("admin:seedance_run_file", kwargs={"file_id": record.pk})
    bare = django_user_model.objects.create_user("intern", password=PASSWORD, is_staff=True)
    client.force_login(bare)
    assert client.get(url).status_code == 403
    bare.user_permissions.add(Permission.objects.get(codename="view_run"))
    client.force_login(django_user_model.objects.get(pk=bare.pk))
    assert client.get(url).status_code == 200


def test_a_provider_declared_content_type_is_never_served_as_anything_but_video(
    tenant: Any, client: Any
) -> None:
    assert safe_video_type("text/html") == "video/mp4"
    assert safe_video_type("video/webm") == "video/webm"
    run = billable_run(tenant)
    record = stored_copy(run, b"<script>alert(1)</script>")
    response = client.get(signed_url(record))
    assert response["Content-Type"] == "video/mp4"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://cdn.runflow.io/v.mp4", True),
        ("http://169.254.169.254/latest/meta-data/", False),
        ("file:///etc/passwd", False),
        ("http://127.0.0.1:8765/media/v.mp4", True),  # the sandbox: Runflow's own host
    ],
)
def test_outputs_are_fetched_over_https_or_from_runflows_own_host(
    settings: Any, url: str, allowed: bool
) -> None:
    settings.SEEDANCE = {**settings.SEEDANCE, "RUNFLOW_BASE_URL": "http://127.0.0.1:8765/v1"}
    assert fetchable(url) is allowed


def test_run_page_cost_is_the_ledgers_not_todays_price(
    tenant: Any, member: Any, client: Any
) -> None:
    run = billable_run(tenant, created_by=member)
    TenantPrice.objects.create(tenant=tenant, resolution="720p", price_per_second=Decimal("1"))
    client.force_login(member)
    body = client.get(reverse("billing_portal:run-cost", kwargs={"run_id": run.pk})).content
    assert b"$1.21" in body
    assert b"$5.00" not in body


def test_voided_usage_is_not_counted_as_usage(tenant: Any, settings: Any) -> None:
    from billing.selectors import usage_summary

    settings.SEEDANCE = {**settings.SEEDANCE, "BILL_REJECTED": False}
    kept, rejected = billable_run(tenant), billable_run(tenant)
    Run.objects.filter(pk=rejected.pk).update(moderation=Run.Moderation.PENDING)
    UsageRecord.objects.filter(run=rejected).update(push_state=UsageRecord.PushState.WAITING)
    staff = type(tenant)._meta.apps.get_model("auth", "User").objects.create(username="s")
    run_reject(run_id=rejected.pk, decided_by=staff, reason="policy")
    start = timezone.now().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    summary = usage_summary(tenant=tenant, start=start, end=timezone.now(), group_by="day")
    assert summary.totals.runs == 1
    assert UsageRecord.objects.get(run=rejected).push_state == UsageRecord.PushState.VOIDED
    assert kept.pk != rejected.pk


def test_tenant_apps_cannot_claim_a_portal_persons_end_user_id(api_client: APIClient) -> None:
    response = api_client.post(
        "/api/v1/runs",
        {"prompt": "x", "end_user_id": "portal:3f1a5e9e-0c4b-4e43-9a38-2f6b3d7f1c11"},
        format="json",
    )
    assert response.status_code == 400
    assert "end_user_id" in response.json()["error"]["fields"]


def test_switching_to_an_absurd_tenant_id_is_a_404(member: Any, client: Any) -> None:
    client.force_login(member)
    response = client.post(reverse("portal:switch-tenant"), {"tenant": str(2**70)})
    assert response.status_code == 404
