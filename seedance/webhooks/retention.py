"""The delivery log is kept ``WEBHOOK_LOG_RETENTION_DAYS``: older attempts go, and so do
settled deliveries of older events and the events left with none. Pending deliveries
(and their events) stay whatever their age: they are still owed."""

from datetime import datetime, timedelta

from django.utils import timezone

from seedance.conf import setting
from seedance.models import WebhookAttempt, WebhookDelivery, WebhookEvent


def webhook_log_purge(now: datetime | None = None) -> int:
    """How many rows were deleted (attempts, deliveries and events together)."""
    cutoff = (now or timezone.now()) - timedelta(days=float(setting("WEBHOOK_LOG_RETENTION_DAYS")))
    attempts, _ = WebhookAttempt.objects.filter(sent_at__lt=cutoff).delete()
    deliveries, _ = (
        WebhookDelivery.objects.filter(event__created_at__lt=cutoff)
        .exclude(state=WebhookDelivery.State.PENDING)
        .delete()
    )
    events, _ = WebhookEvent.objects.filter(created_at__lt=cutoff, deliveries__isnull=True).delete()
    return attempts + deliveries + events
