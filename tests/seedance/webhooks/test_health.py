"""An endpoint's failure streak: a 410 disables it at once, five days of failures disable it
and mail the tenant's admins, and any success ends the streak."""

from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from seedance.models import Membership
from seedance.webhooks.endpoints import webhook_endpoint_update
from seedance.webhooks.events import webhook_event_record
from tests.factories import make_person
from tests.seedance.webhooks.conftest import (
    Answer,
    ReceiverServer,
    deliver_due,
    subscribe,
    time_passes,
)


def test_a_410_disables_the_endpoint_at_once_and_its_deliveries_wait(
    tenant: Any, receiver: ReceiverServer
) -> None:
    endpoint = subscribe(tenant, receiver, ["usage.cap.warning"])
    webhook_event_record(tenant, "usage.cap.warning", data={})
    receiver.answer_next(Answer(410))

    assert deliver_due() == ["retrying"]

    endpoint.refresh_from_db()
    assert not endpoint.enabled
    assert "410" in endpoint.disabled_reason
    time_passes()
    assert deliver_due() == []
    assert webhook_event_record(tenant, "usage.cap.warning", data={}) is None

    webhook_endpoint_update(endpoint, enabled=True)
    assert deliver_due() == ["delivered"]


@pytest.mark.django_db(transaction=True)
def test_five_days_of_failures_disable_the_endpoint_and_mail_the_tenant_admins(
    tenant: Any, receiver: ReceiverServer
) -> None:
    admin = make_person("boss", "boss@example.com")
    member = make_person("staff", "staff@example.com")
    Membership.objects.create(user=admin, tenant=tenant, role=Membership.Role.ADMIN)
    Membership.objects.create(user=member, tenant=tenant, role=Membership.Role.MEMBER)
    endpoint = subscribe(tenant, receiver, ["usage.cap.warning"])
    webhook_event_record(tenant, "usage.cap.warning", data={})
    receiver.answer_next(Answer(500), Answer(500))

    deliver_due()
    endpoint.refresh_from_db()
    assert endpoint.enabled
    assert endpoint.failing_since is not None
    # The streak began five days ago and nothing succeeded since.
    endpoint.failing_since = timezone.now() - timedelta(days=5)
    endpoint.save()
    time_passes()
    deliver_due()

    endpoint.refresh_from_db()
    assert not endpoint.enabled
    assert "5 days" in endpoint.disabled_reason
    [notice] = mail.outbox
    assert notice.to == ["boss@example.com"]
    assert endpoint.url in notice.body


def test_a_success_ends_the_failure_streak(tenant: Any, receiver: ReceiverServer) -> None:
    endpoint = subscribe(tenant, receiver, ["usage.cap.warning"])
    webhook_event_record(tenant, "usage.cap.warning", data={})
    receiver.answer_next(Answer(500))
    deliver_due()
    time_passes()
    deliver_due()
    endpoint.refresh_from_db()
    assert endpoint.failing_since is None
    assert endpoint.enabled
