"""The delivery log is kept for WEBHOOK_LOG_RETENTION_DAYS, and what is still owed stays."""

from datetime import timedelta
from typing import Any

from django.utils import timezone
from django_q.models import Schedule

from seedance.models import WebhookAttempt, WebhookDelivery, WebhookEvent
from seedance.queue import PURGE_WEBHOOK_LOG
from seedance.schedules import PURGE_WEBHOOK_LOG_SCHEDULE, ensure_schedules
from seedance.tasks import purge_webhook_log
from seedance.webhooks.events import webhook_event_record
from tests.seedance.webhooks.conftest import Answer, ReceiverServer, deliver_due, subscribe


def test_old_settled_deliveries_and_their_log_go_and_pending_ones_stay(
    tenant: Any, receiver: ReceiverServer, settings: Any
) -> None:
    settings.SEEDANCE = {**settings.SEEDANCE, "WEBHOOK_LOG_RETENTION_DAYS": 7}
    subscribe(tenant, receiver, ["usage.cap.warning"])
    settled = webhook_event_record(tenant, "usage.cap.warning", data={"n": 1})
    owed = webhook_event_record(tenant, "usage.cap.warning", data={"n": 2})
    recent = webhook_event_record(tenant, "usage.cap.warning", data={"n": 3})
    assert settled
    assert owed
    assert recent
    receiver.answer_next(Answer(200), Answer(500), Answer(200))
    deliver_due()
    eight_days_ago = timezone.now() - timedelta(days=8)
    WebhookEvent.objects.filter(pk__in=[settled.pk, owed.pk]).update(created_at=eight_days_ago)
    WebhookAttempt.objects.filter(delivery__event__in=[settled, owed]).update(
        sent_at=eight_days_ago
    )

    assert purge_webhook_log() == 4  # two attempts, one delivery, one event

    assert set(WebhookEvent.objects.values_list("pk", flat=True)) == {owed.pk, recent.pk}
    assert WebhookDelivery.objects.get(event=owed).state == "pending"
    assert list(WebhookAttempt.objects.values_list("delivery__event", flat=True)) == [recent.pk]


def test_the_purge_is_scheduled_hourly(db: None) -> None:
    ensure_schedules()  # what the data migration ran (a transactional test may have flushed it)
    schedule = Schedule.objects.get(name=PURGE_WEBHOOK_LOG_SCHEDULE)
    assert (schedule.func, schedule.schedule_type) == (PURGE_WEBHOOK_LOG, Schedule.HOURLY)
