"""Serving our copies: only as video, only to whom may see them (fetching them is
tests/seedance/test_outbound.py's)."""

from typing import Any

from django.contrib.auth.models import Permission
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from seedance.models import OutputFile, Run
from seedance.outputs import safe_video_type, signed_url
from tests.billing.factories import billable_run
from tests.conftest import totp_enrol
from tests.factories import SYSTEM

PASSWORD = "pw-for-tests-123"


def stored_copy(run: Run, content: bytes = b"\x00\x00\x00\x18ftypmp42") -> OutputFile:
    """The run's copy, holding ``content``."""
    record, _ = OutputFile.objects.update_or_create(
        run=run, index=0, defaults={"copied_at": timezone.now()}
    )
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
    totp_enrol(bare)
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


def test_changing_retention_redates_copies_already_made(tenant: Any) -> None:
    from datetime import timedelta

    from seedance.outputs import outputs_purge_expired
    from seedance.services.tenants import tenant_settings_update

    run = billable_run(tenant)
    record = stored_copy(run)
    OutputFile.objects.filter(pk=record.pk).update(copied_at=timezone.now() - timedelta(days=10))
    tenant_settings_update(tenant=tenant, name=tenant.name, output_retention_days=7, actor=SYSTEM)
    record.refresh_from_db()
    assert record.expires_at is not None
    assert record.expires_at < timezone.now()
    assert outputs_purge_expired() == 1
    tenant_settings_update(
        tenant=tenant, name=tenant.name, output_retention_days=None, actor=SYSTEM
    )
    record.refresh_from_db()
    assert record.deleted_at is not None  # a purged copy stays gone
