"""Tenant webhook endpoints: the services the API and the portal call.

A URL is checked with the outbound guard when it is registered (and again at every
attempt: a name may resolve elsewhere later). The signing secret is returned once, by
create and by rotate; only its encrypted form is stored. Redelivering resets the
delivery to pending with the same ``webhook-id``: a receiver that deduplicates on it is
right to treat it as the message it already has, and the log keeps every attempt.
Given an ``actor``, a change to an endpoint writes its audit entry in its own transaction.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from seedance.audit import Action, Actor, audit_record
from seedance.conf import setting
from seedance.exceptions import InvalidWebhookEndpoint, OutboundRefused, WebhookActionRefused
from seedance.models import Tenant, WebhookDelivery, WebhookEndpoint, WebhookEvent
from seedance.outbound import check_url
from seedance.webhooks.encryption import secret_decrypt, secret_encrypt, secret_reencrypt
from seedance.webhooks.events import EVENT_TYPES, TEST_EVENT, event_record_for
from seedance.webhooks.signing import new_secret

URL_MAX_CHARS = 2000
DESCRIPTION_MAX_CHARS = 500


@dataclass(frozen=True)
class EndpointWithSecret:
    """An endpoint and its new secret: the one time the secret is shown."""

    endpoint: WebhookEndpoint
    secret: str


def webhook_endpoint_create(
    *,
    tenant: Tenant,
    url: str,
    events: Any,
    description: str = "",
    actor: Actor | None = None,
) -> EndpointWithSecret:
    values = _valid(url=url or "", events=[] if events is None else events, description=description)
    secret = new_secret()
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.create(
            tenant=tenant, secret_encrypted=secret_encrypt(secret), **values
        )
        _audit(
            Action.WEBHOOK_ENDPOINT_CREATED,
            endpoint,
            actor,
            {"endpoint_id": str(endpoint.pk), "url": endpoint.url, "events": endpoint.events},
        )
    return EndpointWithSecret(endpoint=endpoint, secret=secret)


#: The fields an update may change that its audit entry shows before and after.
_AUDITED_FIELDS = ("url", "events", "description", "enabled")


def webhook_endpoint_update(
    endpoint: WebhookEndpoint,
    *,
    url: str | None = None,
    events: Any = None,
    description: str | None = None,
    enabled: bool | None = None,
    actor: Actor | None = None,
) -> WebhookEndpoint:
    """Change what is given. Enabling a disabled endpoint starts a new streak and lets its
    pending deliveries go out again, in order."""
    values = _valid(url=url, events=events, description=description)
    if enabled is True and not endpoint.enabled:
        values.update(enabled=True, disabled_at=None, disabled_reason="", failing_since=None)
    elif enabled is False and endpoint.enabled:
        values.update(
            enabled=False, disabled_at=timezone.now(), disabled_reason="Disabled by the tenant."
        )
    changes = {
        name: {"before": getattr(endpoint, name), "after": values[name]}
        for name in _AUDITED_FIELDS
        if name in values and values[name] != getattr(endpoint, name)
    }
    for name, value in values.items():
        setattr(endpoint, name, value)
    with transaction.atomic():
        endpoint.save()
        if changes:
            _audit(Action.WEBHOOK_ENDPOINT_CHANGED, endpoint, actor, changes)
    return endpoint


def webhook_endpoint_delete(endpoint: WebhookEndpoint, *, actor: Actor | None = None) -> None:
    """The endpoint goes with its deliveries and their log."""
    with transaction.atomic():
        _audit(
            Action.WEBHOOK_ENDPOINT_DELETED,
            endpoint,
            actor,
            {"endpoint_id": str(endpoint.pk), "url": endpoint.url},
        )
        endpoint.delete()


def webhook_endpoint_rotate_secret(
    endpoint: WebhookEndpoint, *, now: datetime | None = None, actor: Actor | None = None
) -> EndpointWithSecret:
    """A new secret signs from now; the current one signs beside it until the overlap ends
    (a secret already in its overlap is dropped: only two ever sign)."""
    now = now or timezone.now()
    overlap = timedelta(seconds=float(setting("WEBHOOK_SECRET_OVERLAP_SECONDS")))
    secret = new_secret()
    with transaction.atomic():
        locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        locked.previous_secret_encrypted = secret_encrypt(secret_decrypt(locked.secret_encrypted))
        signs_until = now + overlap
        locked.previous_secret_expires_at = signs_until
        locked.secret_encrypted = secret_encrypt(secret)
        locked.save(
            update_fields=[
                "previous_secret_encrypted",
                "previous_secret_expires_at",
                "secret_encrypted",
                "updated_at",
            ]
        )
        _audit(
            Action.WEBHOOK_SECRET_ROTATED,
            locked,
            actor,
            {
                "endpoint_id": str(locked.pk),
                "previous_secret_signs_until": signs_until.isoformat(),
            },
        )
    return EndpointWithSecret(endpoint=locked, secret=secret)


def endpoint_signing_secrets(endpoint: WebhookEndpoint, *, now: datetime) -> list[str]:
    """The secrets an attempt is signed with now: the current one, and the previous one
    during a rotation's overlap."""
    secrets = [secret_decrypt(endpoint.secret_encrypted)]
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret_encrypted and expires is not None and now < expires:
        secrets.append(secret_decrypt(endpoint.previous_secret_encrypted))
    return secrets


@dataclass(frozen=True)
class ReencryptCounts:
    endpoints: int
    reencrypted: int


def webhook_secrets_reencrypt(*, batch_size: int = 500) -> ReencryptCounts:
    """Store every endpoint's secrets (current and previous) under the first key of
    ``WEBHOOK_SECRET_KEYS``, batch by batch with the rows locked so a rotation running
    beside it is never overwritten; running it again changes nothing."""
    seen = reencrypted = 0
    last_pk = None
    while True:
        with transaction.atomic():
            batch = WebhookEndpoint.objects.select_for_update().order_by("pk")
            if last_pk is not None:
                batch = batch.filter(pk__gt=last_pk)
            endpoints = list(batch[:batch_size])
            for endpoint in endpoints:
                changed = _reencrypted_fields(endpoint)
                if changed:
                    endpoint.save(update_fields=changed)
                    reencrypted += 1
        if not endpoints:
            return ReencryptCounts(endpoints=seen, reencrypted=reencrypted)
        seen += len(endpoints)
        last_pk = endpoints[-1].pk


def _reencrypted_fields(endpoint: WebhookEndpoint) -> list[str]:
    changed = []
    for field in ("secret_encrypted", "previous_secret_encrypted"):
        token = getattr(endpoint, field)
        if token and (fresh := secret_reencrypt(token)) is not None:
            setattr(endpoint, field, fresh)
            changed.append(field)
    return changed


def webhook_delivery_redeliver(delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivered or given-up delivery again, as soon as it is due."""
    now = timezone.now()
    reset = WebhookDelivery.objects.filter(
        pk=delivery.pk, state__in=[WebhookDelivery.State.DELIVERED, WebhookDelivery.State.FAILED]
    ).update(state=WebhookDelivery.State.PENDING, next_attempt_at=now, delivered_at=None)
    if reset != 1:
        raise WebhookActionRefused("This delivery is still pending: it will be sent again anyway.")
    delivery.refresh_from_db()
    return delivery


def webhook_endpoint_send_test(endpoint: WebhookEndpoint) -> WebhookEvent:
    """A ``webhook.test`` event delivered to this endpoint only, subscribed to it or not."""
    if not endpoint.enabled:
        raise WebhookActionRefused("The endpoint is disabled: enable it to send a test event.")
    event = event_record_for(
        endpoint.tenant,
        TEST_EVENT,
        [endpoint],
        data={"endpoint_id": str(endpoint.pk), "message": "A test event from Seedance."},
    )
    assert event is not None
    return event


def _audit(
    action: str, endpoint: WebhookEndpoint, actor: Actor | None, details: dict[str, Any]
) -> None:
    """The change's entry (never the secret), when someone is named as making it."""
    if actor is not None:
        audit_record(
            action=action,
            actor=actor,
            tenant=endpoint.tenant,
            target=f"webhook endpoint {endpoint.url}",
            details=details,
        )


def _valid(*, url: str | None, events: Any, description: str | None) -> dict[str, Any]:
    """The given values, checked; InvalidWebhookEndpoint names every field at fault."""
    values: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    if url is not None:
        if not isinstance(url, str) or len(url) > URL_MAX_CHARS:
            errors["url"] = [f"Give a URL of at most {URL_MAX_CHARS} characters."]
        else:
            try:
                check_url(url)
                values["url"] = url
            except OutboundRefused as exc:
                errors["url"] = [f"This URL cannot receive webhooks: {exc.message}."]
    if events is not None:
        if (
            not isinstance(events, list)
            or not events
            or not all(isinstance(e, str) for e in events)
        ):
            errors["events"] = ["Give a non-empty list of event types."]
        elif unknown := sorted(set(events) - set(EVENT_TYPES)):
            errors["events"] = [f"Unknown event types: {', '.join(unknown)}."]
        else:
            values["events"] = [e for e in EVENT_TYPES if e in events]
    if description is not None:
        if not isinstance(description, str) or len(description) > DESCRIPTION_MAX_CHARS:
            errors["description"] = [f"At most {DESCRIPTION_MAX_CHARS} characters."]
        elif not _storable(description):
            errors["description"] = ["Must be text without NUL characters."]
        else:
            values["description"] = description
    if errors:
        raise InvalidWebhookEndpoint(errors)
    return values


def _storable(text: str) -> bool:
    """Text every database stores: no NUL (PostgreSQL refuses it), no lone surrogates."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in text
