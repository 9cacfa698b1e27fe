"""The tenant webhooks section: disabled endpoints and failing deliveries are the tenants'
to fix (warnings); due deliveries nobody sent mean the dispatcher is down (a problem)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from seedance.doctor.findings import Context, Section, Severity
from seedance.doctor.webhooks import webhooks_section
from seedance.models import (
    CallbackDelivery,
    Tenant,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from tests.factories import make_run
from tests.seedance.doctor.helpers import finding, trouble

pytestmark = pytest.mark.django_db


def endpoint(tenant: Tenant, **fields: object) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(
        tenant=tenant,
        url="https://hooks.example.com/seedance",
        events=["run.succeeded"],
        secret_encrypted="not-read-here",
        **fields,
    )


def delivery(to: WebhookEndpoint, **fields: object) -> WebhookDelivery:
    event = WebhookEvent.objects.create(tenant=to.tenant, type="run.succeeded")
    return WebhookDelivery.objects.create(event=event, endpoint=to, **fields)


def section() -> Section:
    return webhooks_section(Context(now=timezone.now()))


def test_healthy_endpoints_and_deliveries_are_ok(tenant: Tenant) -> None:
    healthy = endpoint(tenant)
    delivery(healthy, state=WebhookDelivery.State.DELIVERED, attempts=1)
    delivery(healthy, next_attempt_at=timezone.now())  # due now: the dispatcher's next tick
    assert trouble(section()) == {}


def test_a_disabled_endpoint_is_a_warning_naming_its_tenant_and_reason(tenant: Tenant) -> None:
    endpoint(
        tenant,
        enabled=False,
        disabled_at=timezone.now(),
        disabled_reason="The receiver answered 410 Gone.",
    )
    found = finding(section(), "webhooks.disabled")
    assert found.severity is Severity.WARNING
    assert found.items == (
        "acme: https://hooks.example.com/seedance (The receiver answered 410 Gone.)",
    )
    assert "/admin/seedance/webhookendpoint/?enabled__exact=0" in found.todo


def test_retrying_and_given_up_deliveries_are_a_warning(tenant: Tenant) -> None:
    failing = endpoint(tenant)
    later = timezone.now() + timedelta(minutes=5)
    delivery(failing, attempts=2, next_attempt_at=later, last_status=500)
    delivery(failing, state=WebhookDelivery.State.FAILED, attempts=8)
    found = finding(section(), "webhooks.failing")
    assert found.severity is Severity.WARNING
    assert found.details == {"retrying": 1, "failed": 1}
    assert found.items == ("acme",)


def test_a_delivery_due_for_minutes_and_never_sent_means_no_dispatcher(tenant: Tenant) -> None:
    stalled = delivery(endpoint(tenant), next_attempt_at=timezone.now() - timedelta(minutes=10))
    found = finding(section(), "webhooks.stalled")
    assert found.severity is Severity.PROBLEM
    assert found.items == (str(stalled.pk),)
    assert "manage.py dispatcher" in found.todo


def test_deliveries_paused_with_their_tenant_or_endpoint_are_not_stalled(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    long_ago = timezone.now() - timedelta(hours=1)
    Tenant.objects.filter(pk=other_tenant.pk).update(suspended_at=long_ago)
    delivery(endpoint(other_tenant), next_attempt_at=long_ago)
    delivery(endpoint(tenant, enabled=False), next_attempt_at=long_ago)
    assert "webhooks.stalled" not in trouble(section())


def callback(tenant: Tenant, **fields: object) -> CallbackDelivery:
    run = make_run(tenant)
    return CallbackDelivery.objects.create(
        run=run, tenant=tenant, url="https://hooks.example.com/cb", **fields
    )


def test_a_failing_run_callback_is_a_warning_naming_its_tenant(tenant: Tenant) -> None:
    callback(tenant, attempts=1, next_attempt_at=timezone.now() + timedelta(minutes=5))
    callback(tenant, state=CallbackDelivery.State.FAILED, attempts=8)
    found = finding(section(), "webhooks.callbacks")
    assert found.severity == Severity.WARNING
    assert found.details == {"retrying": 1, "failed": 1}
    assert found.items == ("acme",)


def test_a_run_callback_overdue_for_minutes_means_the_dispatcher_is_down(tenant: Tenant) -> None:
    stalled = callback(tenant, next_attempt_at=timezone.now() - timedelta(minutes=10))
    callback(tenant, next_attempt_at=timezone.now())  # due now: the next tick sends it
    found = finding(section(), "webhooks.callbacks_stalled")
    assert found.severity == Severity.PROBLEM
    assert found.items == (str(stalled.run_id),)
