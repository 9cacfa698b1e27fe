"""The tenant webhooks section: endpoints disabled, deliveries failing, a stalled backlog;
and the same for the Runflow-style callbacks of the compatible surface.

Failing and disabled are the tenant's receivers (warnings); due deliveries nobody sent
mean ``manage.py dispatcher`` is not running (a problem).
"""

from collections.abc import Iterator
from datetime import datetime, timedelta

from django.db.models import Exists, OuterRef

from seedance.doctor.findings import Context, Finding, Section, Severity, admin_page, ok, shown
from seedance.models import CallbackDelivery, WebhookDelivery, WebhookEndpoint

PENDING = WebhookDelivery.State.PENDING
#: The dispatcher wakes every second and a lost task's lease runs out within a minute:
#: a delivery overdue by more than this is not a hiccup.
DISPATCHER_GRACE = timedelta(minutes=5)


def _disabled() -> Iterator[Finding]:
    disabled = WebhookEndpoint.objects.filter(enabled=False).select_related("tenant")
    rows = [
        f"{endpoint.tenant.slug}: {endpoint.url} ({endpoint.disabled_reason or 'disabled'})"
        for endpoint in disabled.order_by("disabled_at")
    ]
    if not rows:
        yield ok("webhooks.disabled", "No webhook endpoint is disabled.")
        return
    yield Finding(
        "webhooks.disabled",
        Severity.WARNING,
        f"{len(rows)} tenant webhook endpoint(s) disabled (a 410 or days of failures); "
        "their events are not delivered.",
        todo=(
            "Tell the tenant: it re-enables the endpoint (portal or API) once its receiver "
            "answers. Why each was disabled: "
            f"{admin_page('admin:seedance_webhookendpoint_changelist', 'enabled__exact=0')}."
        ),
        count=len(rows),
        items=shown(rows),
    )


def _failing() -> Iterator[Finding]:
    deliveries = WebhookDelivery.objects.select_related("endpoint__tenant")
    retrying = deliveries.filter(state=PENDING, attempts__gt=0)
    given_up = deliveries.filter(state=WebhookDelivery.State.FAILED)
    counts = {"retrying": retrying.count(), "failed": given_up.count()}
    if not any(counts.values()):
        yield ok("webhooks.failing", "No webhook delivery is failing.")
        return
    tenants = sorted(
        {d.endpoint.tenant.slug for d in (*retrying[:200], *given_up.order_by("-id")[:200])}
    )
    yield Finding(
        "webhooks.failing",
        Severity.WARNING,
        f"{counts['retrying']} webhook delivery(ies) retrying after a failed attempt, "
        f"{counts['failed']} given up.",
        todo=(
            "The tenants' receivers answer errors: the delivery log says what they answered "
            f"({admin_page('admin:seedance_webhookdelivery_changelist')}); a tenant redelivers "
            "a given-up one from its delivery log once fixed."
        ),
        count=sum(counts.values()),
        items=shown(tenants),
        details=counts,
    )


def stalled_deliveries(now: datetime) -> "list[int]":
    """Deliveries the dispatcher should have sent by now: due, sendable, first in line."""
    earlier = WebhookDelivery.objects.filter(
        endpoint=OuterRef("endpoint"), run=OuterRef("run"), state=PENDING, pk__lt=OuterRef("pk")
    )
    return list(
        WebhookDelivery.objects.filter(
            state=PENDING,
            next_attempt_at__lt=now - DISPATCHER_GRACE,
            endpoint__enabled=True,
            endpoint__tenant__suspended_at__isnull=True,
        )
        .filter(~Exists(earlier))
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)
    )


def _stalled(now: datetime) -> Iterator[Finding]:
    stalled = stalled_deliveries(now)
    if not stalled:
        yield ok("webhooks.stalled", "No webhook delivery is overdue.")
        return
    yield Finding(
        "webhooks.stalled",
        Severity.PROBLEM,
        f"{len(stalled)} webhook delivery(ies) due for minutes and never sent.",
        todo="Start the dispatcher (`manage.py dispatcher`) and a qcluster worker.",
        count=len(stalled),
        items=shown(stalled),
    )


def _callbacks(now: datetime) -> Iterator[Finding]:
    """Runflow-style callbacks: failing is the tenant's receiver, overdue is ours."""
    callbacks = CallbackDelivery.objects.select_related("tenant")
    overdue = callbacks.filter(
        state=CallbackDelivery.State.PENDING,
        next_attempt_at__lt=now - DISPATCHER_GRACE,
        tenant__suspended_at__isnull=True,
    )
    if overdue_ids := list(overdue.values_list("run_id", flat=True)[:200]):
        yield Finding(
            "webhooks.callbacks_stalled",
            Severity.PROBLEM,
            f"{overdue.count()} run callback(s) due for minutes and never sent.",
            todo="Start the dispatcher (`manage.py dispatcher`) and a qcluster worker.",
            count=overdue.count(),
            items=shown([str(run_id) for run_id in overdue_ids]),
        )
    failing = callbacks.filter(state=CallbackDelivery.State.PENDING, attempts__gt=0)
    given_up = callbacks.filter(state=CallbackDelivery.State.FAILED)
    counts = {"retrying": failing.count(), "failed": given_up.count()}
    if not any(counts.values()):
        yield ok("webhooks.callbacks", "No run callback is failing.")
        return
    tenants = sorted({c.tenant.slug for c in (*failing[:200], *given_up.order_by("-id")[:200])})
    yield Finding(
        "webhooks.callbacks",
        Severity.WARNING,
        f"{counts['retrying']} run callback(s) retrying after a failed attempt, "
        f"{counts['failed']} given up.",
        todo=(
            "The tenants' callback_url receivers answer errors (last_status, last_error on "
            "each CallbackDelivery row); their apps can still read each run with GET /v1/runs."
        ),
        count=sum(counts.values()),
        items=shown(tenants),
        details=counts,
    )


def webhooks_section(context: Context) -> Section:
    findings = (*_disabled(), *_failing(), *_stalled(context.now), *_callbacks(context.now))
    return Section(name="webhooks", title="Tenant webhooks", findings=findings)
