"""An endpoint's failure streak: a 410 disables it at once, and so does a streak of failed
attempts lasting ``WEBHOOK_DISABLE_AFTER_FAILING_SECONDS`` with no success; either way the
tenant's admins are told by e-mail. Its pending deliveries wait, and resume when a tenant
admin enables it again."""

from datetime import datetime, timedelta
from functools import partial
from uuid import UUID

from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string

from seedance.conf import setting
from seedance.models import WebhookEndpoint
from seedance.selectors import tenant_admin_emails

GONE = 410


def endpoint_succeeded(endpoint_id: UUID) -> None:
    WebhookEndpoint.objects.filter(pk=endpoint_id, failing_since__isnull=False).update(
        failing_since=None
    )


def endpoint_failed(endpoint_id: UUID, *, status: int | None, now: datetime) -> None:
    """Call inside the attempt's transaction."""
    WebhookEndpoint.objects.filter(pk=endpoint_id, failing_since__isnull=True).update(
        failing_since=now
    )
    if status == GONE:
        endpoint_disable(endpoint_id, reason="The endpoint answered 410 Gone.", now=now)
        return
    streak = timedelta(seconds=float(setting("WEBHOOK_DISABLE_AFTER_FAILING_SECONDS")))
    if WebhookEndpoint.objects.filter(
        pk=endpoint_id, enabled=True, failing_since__lte=now - streak
    ).exists():
        endpoint_disable(endpoint_id, reason=f"Every attempt failed for {_days(streak)}.", now=now)


def endpoint_disable(endpoint_id: UUID, *, reason: str, now: datetime) -> bool:
    """Disable an enabled endpoint and mail its tenant's admins after commit; True if this
    call disabled it."""
    moved = WebhookEndpoint.objects.filter(pk=endpoint_id, enabled=True).update(
        enabled=False, disabled_at=now, disabled_reason=reason
    )
    if moved:
        transaction.on_commit(partial(endpoint_disabled_notice, endpoint_id), robust=True)
    return moved == 1


def endpoint_disabled_notice(endpoint_id: UUID) -> int:
    """E-mail every admin of the endpoint's tenant why it was disabled; how many were sent."""
    endpoint = WebhookEndpoint.objects.select_related("tenant").get(pk=endpoint_id)
    recipients = tenant_admin_emails(tenant=endpoint.tenant)
    if not recipients:
        return 0
    context = {"endpoint": endpoint, "tenant": endpoint.tenant}
    subject = render_to_string("seedance/email/webhook_disabled_subject.txt", context).strip()
    body = render_to_string("seedance/email/webhook_disabled.txt", context)
    return send_mail(subject, body, None, recipients)


def _days(streak: timedelta) -> str:
    days = streak.total_seconds() / 86400
    return f"{days:g} days" if days >= 1 else f"{streak.total_seconds():g} seconds"
