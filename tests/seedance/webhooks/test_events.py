"""Events are recorded in the transaction of the change they report, one delivery per
enabled endpoint subscribed to the type, and say what the API starts showing then."""

from typing import Any

import pytest
from django.db import transaction

from seedance.models import Run, WebhookDelivery, WebhookEndpoint, WebhookEvent
from seedance.moderation import run_approve, run_reject
from seedance.outcomes import Outcome
from seedance.services.runs import run_cancel
from seedance.states import RunStatus
from seedance.transitions import run_finish, run_mark_undeliverable
from seedance.webhooks.endpoints import webhook_endpoint_create, webhook_endpoint_update
from seedance.webhooks.events import EVENT_TYPES, webhook_event_record
from tests.factories import deliver, finish_successfully, make_person, make_run


@pytest.fixture
def endpoint(tenant: Any, settings: Any) -> WebhookEndpoint:
    settings.SEEDANCE = {**settings.SEEDANCE, "OUTBOUND_LOOPBACK_HTTP": ["127.0.0.1:9"]}
    return webhook_endpoint_create(
        tenant=tenant, url="http://127.0.0.1:9/hooks", events=list(EVENT_TYPES)
    ).endpoint


def types(run: Run) -> list[str]:
    return list(
        WebhookEvent.objects.filter(run=run)
        .order_by("created_at", "pk")
        .values_list("type", flat=True)
    )


def test_a_success_is_recorded_when_it_is_delivered_not_when_it_finishes(
    tenant: Any, endpoint: WebhookEndpoint
) -> None:
    run = finish_successfully(make_run(tenant), delivered=False)
    assert types(run) == []
    deliver(run)
    assert types(run) == ["run.succeeded"]
    event = WebhookEvent.objects.get()
    assert (event.subject_id, event.schema_version, event.tenant) == (str(run.pk), 1, tenant)
    assert WebhookDelivery.objects.get().endpoint == endpoint


def test_a_held_video_is_recorded_held_then_approved_and_succeeded(
    tenant: Any, endpoint: WebhookEndpoint
) -> None:
    run = finish_successfully(make_run(tenant), nsfw_detected=True)
    assert types(run) == ["run.moderation.held"]
    assert run_approve(run_id=run.pk, decided_by=make_person("m", "m@example.com"))
    assert types(run) == ["run.moderation.held", "run.moderation.approved", "run.succeeded"]


def test_approved_before_its_copy_succeeds_when_the_copy_lands(
    tenant: Any, endpoint: WebhookEndpoint
) -> None:
    run = finish_successfully(make_run(tenant), nsfw_detected=True, delivered=False)
    assert run_approve(run_id=run.pk, decided_by=make_person("m", "m@example.com"))
    assert types(run) == ["run.moderation.held", "run.moderation.approved"]
    deliver(run)
    assert types(run)[-1] == "run.succeeded"


def test_a_rejected_video_is_recorded_rejected_and_never_succeeded(
    tenant: Any, endpoint: WebhookEndpoint
) -> None:
    run = finish_successfully(make_run(tenant), nsfw_detected=True)
    assert run_reject(run_id=run.pk, decided_by=make_person("m", "m@example.com"))
    assert types(run) == ["run.moderation.held", "run.moderation.rejected"]


def test_failed_canceled_and_undeliverable_runs_are_recorded(
    tenant: Any, endpoint: WebhookEndpoint
) -> None:
    failed = make_run(tenant)
    run_finish(failed.pk, Outcome(status=RunStatus.FAILED, failure_code="X"))
    canceled = run_cancel(tenant=tenant, run_id=make_run(tenant).pk)
    lost = finish_successfully(make_run(tenant), delivered=False)
    assert run_mark_undeliverable(lost.pk, reason="gone")

    assert (types(failed), types(canceled), types(lost)) == (
        ["run.failed"],
        ["run.canceled"],
        ["run.failed"],
    )


def test_only_enabled_endpoints_subscribed_to_the_type_get_a_delivery(
    tenant: Any, other_tenant: Any, endpoint: WebhookEndpoint
) -> None:
    only_failures = webhook_endpoint_create(
        tenant=tenant, url="http://127.0.0.1:9/f", events=["run.failed"]
    ).endpoint
    disabled = webhook_endpoint_create(
        tenant=tenant, url="http://127.0.0.1:9/d", events=["run.succeeded"]
    ).endpoint
    webhook_endpoint_update(disabled, enabled=False)
    webhook_endpoint_create(
        tenant=other_tenant, url="http://127.0.0.1:9/o", events=["run.succeeded"]
    )

    finish_successfully(make_run(tenant))

    assert list(WebhookDelivery.objects.values_list("endpoint", flat=True)) == [endpoint.pk]
    assert only_failures.deliveries.count() == 0


def test_nothing_is_recorded_when_no_endpoint_listens(tenant: Any) -> None:
    finish_successfully(make_run(tenant))
    assert WebhookEvent.objects.count() == 0


def test_an_event_rolls_back_with_the_change_that_caused_it(
    tenant: Any, endpoint: WebhookEndpoint
) -> None:
    run = make_run(tenant)
    seen: list[list[str]] = []

    def fail_after_the_transition() -> None:
        with transaction.atomic():
            run_finish(run.pk, Outcome(status=RunStatus.FAILED, failure_code="X"))
            seen.append(types(run))
            raise RuntimeError("the transition's transaction fails")

    with pytest.raises(RuntimeError):
        fail_after_the_transition()
    assert seen == [["run.failed"]]
    assert WebhookEvent.objects.count() == WebhookDelivery.objects.count() == 0


def test_usage_events_keep_their_data_and_unknown_types_are_refused(
    tenant: Any, endpoint: WebhookEndpoint
) -> None:
    event = webhook_event_record(tenant, "usage.cap.reached", data={"cap": "10.00"})
    assert event is not None
    assert (event.data, event.run, event.id[:4]) == ({"cap": "10.00"}, None, "msg_")
    with pytest.raises(ValueError, match="not a known"):
        webhook_event_record(tenant, "usage.cap.exploded")
