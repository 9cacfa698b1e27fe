"""Webhook failures on ``/metrics``: counted from the delivery table at scrape time, so every
web process answers the same."""

from typing import Any

import pytest

from seedance.webhooks.events import webhook_event_record
from tests.metrics import TOKEN, scrape, value
from tests.seedance.webhooks.conftest import Answer, ReceiverServer, deliver_due, subscribe

pytestmark = pytest.mark.django_db


def test_failing_deliveries_and_disabled_endpoints_move_the_webhook_metrics(
    client: Any, settings: Any, tenant: Any, receiver: ReceiverServer
) -> None:
    settings.SEEDANCE = {
        **settings.SEEDANCE,
        "METRICS_TOKEN": TOKEN,
        "WEBHOOK_RETRY_SCHEDULE_SECONDS": [0],
    }
    subscribe(tenant, receiver, ["usage.cap.warning"])
    webhook_event_record(tenant, "usage.cap.warning", data={})
    before = scrape(client)
    assert value(before, "seedance_webhook_deliveries_failing", state="retrying") == 0

    receiver.answer_next(Answer(500))
    assert deliver_due() == ["retrying"]
    retrying = scrape(client)
    assert value(retrying, "seedance_webhook_deliveries_failing", state="retrying") == 1

    receiver.answer_next(Answer(410))
    deliver_due()
    disabled = scrape(client)
    assert value(disabled, "seedance_webhook_endpoints_disabled") == 1
