"""Which events tenant apps can subscribe to, and recording them in the outbox.

An event is recorded inside the transaction of the change it reports (the receivers below
run inside the transitions' transactions), with one delivery per enabled endpoint of the
tenant subscribed to its type then; with no such endpoint nothing is recorded. A run is
reported as the tenant sees it (``seedance.public_status``): each run gets exactly one of
``run.succeeded``, ``run.failed`` or ``run.canceled``, the moment the API starts showing it.
"""

from collections.abc import Iterable
from typing import Any

from django.utils import timezone

from seedance.models import Run, Tenant, WebhookDelivery, WebhookEndpoint, WebhookEvent
from seedance.states import Delivery, RunStatus

SCHEMA_VERSION = 1

#: Every type an endpoint may subscribe to, with what it means (shown to tenants).
EVENT_TYPES: dict[str, str] = {
    "run.succeeded": "The run's video can be fetched.",
    "run.failed": "The run failed, or its video could not be delivered.",
    "run.canceled": "The run was canceled before it was generated.",
    "run.moderation.held": "The video is held for review and not shown until approved.",
    "run.moderation.approved": "A held video was approved.",
    "run.moderation.rejected": "A held video was rejected; it is never shown.",
    "usage.cap.warning": "Spend reached 80% of a cap in this period.",
    "usage.cap.reached": "A cap admits no further run in this period.",
    "webhook.test": "A test event sent from the endpoint's page.",
}
#: Types whose data is the run as the API shows it when each attempt is sent.
RUN_EVENT_PREFIX = "run."
TEST_EVENT = "webhook.test"

Moderation = Run.Moderation


def webhook_event_record(
    tenant: Tenant, type: str, *, run: Run | None = None, data: dict[str, Any] | None = None
) -> WebhookEvent | None:
    """Record an event for every enabled endpoint of ``tenant`` subscribed to ``type``;
    call it inside the transaction of the change it reports. None when nobody listens."""
    if type not in EVENT_TYPES:
        raise ValueError(f"{type!r} is not a known webhook event type")
    endpoints = [
        endpoint
        for endpoint in WebhookEndpoint.objects.for_tenant(tenant).filter(enabled=True)
        if type in endpoint.events
    ]
    return event_record_for(tenant, type, endpoints, run=run, data=data)


def event_record_for(
    tenant: Tenant,
    type: str,
    endpoints: Iterable[WebhookEndpoint],
    *,
    run: Run | None = None,
    data: dict[str, Any] | None = None,
) -> WebhookEvent | None:
    endpoints = list(endpoints)
    if not endpoints:
        return None
    now = timezone.now()
    event = WebhookEvent.objects.create(
        tenant=tenant,
        type=type,
        run=run,
        subject_id=str(run.pk) if run is not None else "",
        schema_version=SCHEMA_VERSION,
        data=data or {},
        created_at=now,
    )
    WebhookDelivery.objects.bulk_create(
        WebhookDelivery(
            event=event, endpoint=endpoint, run=run, next_attempt_at=now, created_at=now
        )
        for endpoint in endpoints
    )
    return event


def _record_run(run: Run, type: str) -> None:
    webhook_event_record(run.tenant, type, run=run)


def on_run_finished(sender: Any, run: Run, **kwargs: Any) -> None:
    """Failed and canceled runs show at once; a success waits for its copy, unless the
    video is held (the API shows it withheld from now on)."""
    if run.status == RunStatus.FAILED:
        _record_run(run, "run.failed")
    elif run.status == RunStatus.CANCELED:
        _record_run(run, "run.canceled")
    elif run.status == RunStatus.SUCCEEDED and run.moderation == Moderation.PENDING:
        _record_run(run, "run.moderation.held")


def on_run_delivered(sender: Any, run: Run, **kwargs: Any) -> None:
    if run.moderation in (Moderation.NONE, Moderation.APPROVED):
        _record_run(run, "run.succeeded")


def on_run_undeliverable(sender: Any, run: Run, **kwargs: Any) -> None:
    """The copy failed for good: the tenant is shown a failure, unless review hides it."""
    if run.moderation in (Moderation.NONE, Moderation.APPROVED):
        _record_run(run, "run.failed")


def on_run_moderated(sender: Any, run: Run, decision: str, **kwargs: Any) -> None:
    """The decision, then the outcome it reveals when the copy has already settled."""
    if decision == Moderation.REJECTED:
        _record_run(run, "run.moderation.rejected")
        return
    _record_run(run, "run.moderation.approved")
    if run.delivery == Delivery.DELIVERED:
        _record_run(run, "run.succeeded")
    elif run.delivery == Delivery.UNAVAILABLE:
        _record_run(run, "run.failed")
