"""Reads of endpoints and deliveries are scoped to the tenant asking: another tenant's rows
are not found, the same as rows that do not exist."""

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from seedance.models import WebhookDelivery, WebhookEndpoint
from seedance.webhooks.endpoints import webhook_endpoint_send_test
from seedance.webhooks.selectors import (
    webhook_delivery_get,
    webhook_delivery_list,
    webhook_endpoint_get,
    webhook_endpoint_list,
)
from tests.seedance.webhooks.conftest import ReceiverServer, deliver_due, subscribe


def test_another_tenants_endpoint_and_delivery_are_not_found(
    tenant: Any, other_tenant: Any, receiver: ReceiverServer
) -> None:
    endpoint = subscribe(tenant, receiver)
    webhook_endpoint_send_test(endpoint)
    delivery = WebhookDelivery.objects.get()

    assert list(webhook_endpoint_list(tenant=other_tenant)) == []
    with pytest.raises(WebhookEndpoint.DoesNotExist):
        webhook_endpoint_get(tenant=other_tenant, endpoint_id=endpoint.pk)
    with pytest.raises(WebhookDelivery.DoesNotExist):
        webhook_delivery_get(tenant=other_tenant, delivery_id=delivery.pk)
    assert webhook_endpoint_get(tenant=tenant, endpoint_id=endpoint.pk) == endpoint
    assert webhook_delivery_get(tenant=tenant, delivery_id=delivery.pk) == delivery


def test_the_delivery_log_lists_newest_first_with_attempts_in_order_in_two_queries(
    tenant: Any, receiver: ReceiverServer
) -> None:
    endpoint = subscribe(tenant, receiver)
    for _ in range(3):
        webhook_endpoint_send_test(endpoint)
    deliver_due()

    with CaptureQueriesContext(connection) as queries:
        deliveries = list(webhook_delivery_list(endpoint=endpoint))
        numbers = [[a.number for a in d.attempts_sent] for d in deliveries]
        types = [d.event.type for d in deliveries]

    assert len(queries) == 2
    assert [d.pk for d in deliveries] == sorted((d.pk for d in deliveries), reverse=True)
    assert numbers == [[1], [1], [1]]
    assert types == ["webhook.test"] * 3
