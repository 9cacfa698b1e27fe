"""The endpoint services the API and the portal call: a secret shown once and stored
encrypted, checked URLs and event types, rotation, redelivery and a test event."""

import base64
from datetime import timedelta
from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from seedance.checks import check_webhook_secret_keys
from seedance.exceptions import InvalidWebhookEndpoint, SeedanceError, WebhookActionRefused
from seedance.models import WebhookDelivery, WebhookEndpoint
from seedance.webhooks.encryption import secret_decrypt
from seedance.webhooks.endpoints import (
    endpoint_signing_secrets,
    webhook_delivery_redeliver,
    webhook_endpoint_create,
    webhook_endpoint_rotate_secret,
    webhook_endpoint_send_test,
    webhook_endpoint_update,
)
from seedance.webhooks.events import webhook_event_record
from tests.seedance.webhooks.conftest import ReceiverServer, deliver_due, subscribe


def test_the_secret_is_shown_once_and_stored_only_encrypted(
    tenant: Any, receiver: ReceiverServer, capsys: Any
) -> None:
    made = webhook_endpoint_create(tenant=tenant, url=receiver.url, events=["run.succeeded"])

    assert made.secret.startswith("whsec_")
    assert len(base64.b64decode(made.secret.removeprefix("whsec_"))) >= 24
    stored = WebhookEndpoint.objects.get()
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM seedance_webhookendpoint")
        row = cursor.fetchone()
    assert not any(made.secret in str(value) for value in row)
    assert made.secret not in repr(stored)
    assert made.secret not in str(stored)
    assert secret_decrypt(stored.secret_encrypted) == made.secret
    assert not hasattr(stored, "secret")


def test_secrets_stay_readable_across_a_key_rotation(
    tenant: Any, receiver: ReceiverServer, settings: Any
) -> None:
    made = webhook_endpoint_create(tenant=tenant, url=receiver.url, events=["run.succeeded"])
    new_key = Fernet.generate_key().decode()
    settings.SEEDANCE = {
        **settings.SEEDANCE,
        "WEBHOOK_SECRET_KEYS": [new_key, *settings.SEEDANCE["WEBHOOK_SECRET_KEYS"]],
    }
    assert secret_decrypt(WebhookEndpoint.objects.get().secret_encrypted) == made.secret
    settings.SEEDANCE = {**settings.SEEDANCE, "WEBHOOK_SECRET_KEYS": [new_key]}
    with pytest.raises(ImproperlyConfigured):
        secret_decrypt(WebhookEndpoint.objects.get().secret_encrypted)


def test_reencrypting_lets_the_old_key_be_dropped_and_a_second_run_changes_nothing(
    tenant: Any, receiver: ReceiverServer, settings: Any, capsys: Any
) -> None:
    made = [
        webhook_endpoint_create(tenant=tenant, url=receiver.url, events=["run.succeeded"])
        for _ in range(3)
    ]
    rotated = webhook_endpoint_rotate_secret(made[0].endpoint)
    old_keys = settings.SEEDANCE["WEBHOOK_SECRET_KEYS"]
    new_key = Fernet.generate_key().decode()
    settings.SEEDANCE = {**settings.SEEDANCE, "WEBHOOK_SECRET_KEYS": [new_key, *old_keys]}

    call_command("webhook_secrets_reencrypt", "--batch-size", "2")
    assert "3 of 3 endpoints re-encrypted" in capsys.readouterr().out
    call_command("webhook_secrets_reencrypt")
    assert "0 of 3 endpoints re-encrypted" in capsys.readouterr().out

    settings.SEEDANCE = {**settings.SEEDANCE, "WEBHOOK_SECRET_KEYS": [new_key]}
    first = WebhookEndpoint.objects.get(pk=made[0].endpoint.pk)
    assert endpoint_signing_secrets(first, now=timezone.now()) == [rotated.secret, made[0].secret]
    assert {secret_decrypt(e.secret_encrypted) for e in WebhookEndpoint.objects.all()} == {
        rotated.secret,
        made[1].secret,
        made[2].secret,
    }


def test_reencrypting_without_the_key_a_secret_needs_fails_and_changes_nothing(
    tenant: Any, receiver: ReceiverServer, settings: Any
) -> None:
    webhook_endpoint_create(tenant=tenant, url=receiver.url, events=["run.succeeded"])
    stored = WebhookEndpoint.objects.get().secret_encrypted
    settings.SEEDANCE = {
        **settings.SEEDANCE,
        "WEBHOOK_SECRET_KEYS": [Fernet.generate_key().decode()],
    }
    with pytest.raises(CommandError, match="cannot be decrypted"):
        call_command("webhook_secrets_reencrypt")
    assert WebhookEndpoint.objects.get().secret_encrypted == stored


@pytest.mark.parametrize(
    ("events", "message"),
    [([], "non-empty"), ("run.succeeded", "non-empty"), (["run.exploded"], "run.exploded")],
)
def test_event_types_are_checked_against_the_registry(
    tenant: Any, receiver: ReceiverServer, events: Any, message: str
) -> None:
    with pytest.raises(InvalidWebhookEndpoint) as refused:
        webhook_endpoint_create(tenant=tenant, url=receiver.url, events=events)
    assert message in refused.value.fields["events"][0]
    assert isinstance(refused.value, SeedanceError)


def test_an_update_changes_what_is_given_and_enabling_clears_the_streak(
    tenant: Any, receiver: ReceiverServer
) -> None:
    endpoint = subscribe(tenant, receiver, ["run.succeeded"])
    webhook_endpoint_update(endpoint, events=["run.failed", "run.succeeded"], description="app")
    webhook_endpoint_update(endpoint, enabled=False)
    endpoint.refresh_from_db()
    assert (endpoint.events, endpoint.description, endpoint.enabled) == (
        ["run.succeeded", "run.failed"],
        "app",
        False,
    )
    webhook_endpoint_update(endpoint, enabled=True)
    endpoint.refresh_from_db()
    assert endpoint.enabled
    assert endpoint.disabled_at is None
    with pytest.raises(InvalidWebhookEndpoint):
        webhook_endpoint_update(endpoint, url="https://10.0.0.1/")


def test_rotation_keeps_the_old_secret_signing_for_the_overlap_only(
    tenant: Any, receiver: ReceiverServer, settings: Any
) -> None:
    settings.SEEDANCE = {**settings.SEEDANCE, "WEBHOOK_SECRET_OVERLAP_SECONDS": 60}
    made = webhook_endpoint_create(tenant=tenant, url=receiver.url, events=["run.succeeded"])
    rotated = webhook_endpoint_rotate_secret(made.endpoint)
    expires = rotated.endpoint.previous_secret_expires_at
    assert expires is not None
    assert endpoint_signing_secrets(rotated.endpoint, now=expires - timedelta(seconds=1)) == [
        rotated.secret,
        made.secret,
    ]
    assert endpoint_signing_secrets(rotated.endpoint, now=expires) == [rotated.secret]


def test_redelivery_resets_a_settled_delivery_with_the_same_webhook_id(
    tenant: Any, receiver: ReceiverServer
) -> None:
    subscribe(tenant, receiver, ["usage.cap.warning"])
    webhook_event_record(tenant, "usage.cap.warning", data={})
    delivery = WebhookDelivery.objects.get()
    with pytest.raises(WebhookActionRefused):
        webhook_delivery_redeliver(delivery)
    deliver_due()

    webhook_delivery_redeliver(delivery)
    assert deliver_due() == ["delivered"]

    ids = [r.headers["webhook-id"] for r in receiver.received]
    assert len(ids) == 2
    assert len(set(ids)) == 1
    delivery.refresh_from_db()
    assert list(delivery.log.values_list("number", flat=True)) == [1, 2]


def test_a_test_event_goes_to_that_endpoint_only(tenant: Any, receiver: ReceiverServer) -> None:
    endpoint = subscribe(tenant, receiver, ["run.succeeded"])
    subscribe(tenant, receiver, ["webhook.test"])

    event = webhook_endpoint_send_test(endpoint)
    assert deliver_due() == ["delivered"]

    assert list(event.deliveries.values_list("endpoint", flat=True)) == [endpoint.pk]
    [received] = receiver.received
    assert received.payload["type"] == "webhook.test"
    webhook_endpoint_update(endpoint, enabled=False)
    with pytest.raises(WebhookActionRefused):
        webhook_endpoint_send_test(endpoint)


def test_the_system_check_wants_a_key_without_debug(settings: Any) -> None:
    settings.DEBUG = False
    settings.SEEDANCE = {**settings.SEEDANCE, "WEBHOOK_SECRET_KEYS": []}
    assert [e.id for e in check_webhook_secret_keys(None)] == ["seedance.E011"]
    settings.SEEDANCE = {**settings.SEEDANCE, "WEBHOOK_SECRET_KEYS": ["not-a-fernet-key"]}
    assert [e.id for e in check_webhook_secret_keys(None)] == ["seedance.E011"]
    settings.DEBUG = True
    settings.SEEDANCE = {**settings.SEEDANCE, "WEBHOOK_SECRET_KEYS": []}
    assert check_webhook_secret_keys(None) == []
    call_command("check")
