"""Registration and every delivery go through the one outbound guard: private, loopback,
link-local and oddly written addresses are refused, by literal or by what a name resolves
to, a name that rebinds is refused at the next attempt and never dialled at its new
address, and a redirect is a failed attempt, never followed."""

import ipaddress
from typing import Any

import pytest

from seedance import outbound
from seedance.exceptions import InvalidWebhookEndpoint
from seedance.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from seedance.webhooks.endpoints import webhook_endpoint_create
from seedance.webhooks.events import webhook_event_record
from tests.seedance.webhooks.conftest import Answer, ReceiverServer, deliver_due, subscribe

PUBLIC = ipaddress.ip_address("93.184.216.34")
FORBIDDEN_LITERALS = [
    "https://127.0.0.1/hooks",
    "https://10.0.0.8/hooks",
    "https://169.254.169.254/latest/meta-data",
    "https://[::1]/hooks",
    "https://[::ffff:127.0.0.1]/hooks",
    "https://2130706433/hooks",
    "https://0177.0.0.1/hooks",
    "http://hooks.example.com/plain-http",
]
FORBIDDEN_ADDRESSES = ["127.0.0.1", "10.0.0.8", "169.254.169.254", "::1", "::ffff:127.0.0.1"]


def resolving_to(monkeypatch: pytest.MonkeyPatch, *answers: str) -> list[str]:
    """``hooks.example.com`` resolves to each answer in turn (the last one from then on);
    returns the log of names looked up."""
    asked: list[str] = []
    queue = [ipaddress.ip_address(answer) for answer in answers]

    def resolve(host: str, port: int) -> list[Any]:
        asked.append(host)
        if host != "hooks.example.com":
            raise AssertionError(f"unexpected lookup of {host}")
        return [queue.pop(0) if len(queue) > 1 else queue[0]]

    monkeypatch.setattr(outbound, "resolve", resolve)
    return asked


@pytest.mark.parametrize("url", FORBIDDEN_LITERALS)
def test_registration_refuses_a_forbidden_url(tenant: Any, url: str) -> None:
    with pytest.raises(InvalidWebhookEndpoint) as refused:
        webhook_endpoint_create(tenant=tenant, url=url, events=["run.succeeded"])
    assert list(refused.value.fields) == ["url"]
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize("address", FORBIDDEN_ADDRESSES)
def test_registration_refuses_a_name_resolving_to_a_forbidden_address(
    tenant: Any, monkeypatch: pytest.MonkeyPatch, address: str
) -> None:
    resolving_to(monkeypatch, address)
    with pytest.raises(InvalidWebhookEndpoint):
        webhook_endpoint_create(
            tenant=tenant, url="https://hooks.example.com/in", events=["run.succeeded"]
        )


def _registered_public(tenant: Any, monkeypatch: pytest.MonkeyPatch, *later: str) -> list[str]:
    asked = resolving_to(monkeypatch, str(PUBLIC), *later)
    webhook_endpoint_create(
        tenant=tenant, url="https://hooks.example.com/in", events=["usage.cap.warning"]
    )
    webhook_event_record(tenant, "usage.cap.warning", data={})
    return asked


@pytest.mark.parametrize("address", FORBIDDEN_ADDRESSES)
def test_delivery_refuses_a_name_that_resolves_elsewhere_since_registration(
    tenant: Any, monkeypatch: pytest.MonkeyPatch, address: str
) -> None:
    _registered_public(tenant, monkeypatch, address)

    assert deliver_due() == ["retrying"]

    [attempt] = WebhookAttempt.objects.all()
    assert attempt.status_code is None
    assert "resolves to a" in attempt.error


@pytest.mark.parametrize("url", FORBIDDEN_LITERALS)
def test_delivery_refuses_a_forbidden_url_stored_before_the_rules(
    tenant: Any, receiver: ReceiverServer, url: str
) -> None:
    endpoint = subscribe(tenant, receiver, ["usage.cap.warning"])
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(url=url)
    webhook_event_record(tenant, "usage.cap.warning", data={})

    assert deliver_due() == ["retrying"]

    assert receiver.connections == 0
    assert WebhookAttempt.objects.get().error


def test_a_name_that_turns_private_at_connect_time_is_never_dialled_there(
    tenant: Any, receiver: ReceiverServer, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    """Public when checked, the receiver's loopback address on any later lookup: the
    connection dials the checked address, so the loopback receiver sees nothing."""
    port = int(receiver.netloc.rsplit(":", 1)[1])
    endpoint = subscribe(tenant, receiver, ["usage.cap.warning"])
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(url=f"https://hooks.example.com:{port}/")
    settings.SEEDANCE = {**settings.SEEDANCE, "OUTBOUND_PORTS": [443, port]}
    lookups: list[str] = []

    def rebinding(host: str, port: int) -> list[Any]:
        lookups.append(host)
        return [PUBLIC] if len(lookups) == 1 else [ipaddress.ip_address("127.0.0.1")]

    monkeypatch.setattr(outbound, "resolve", rebinding)
    webhook_event_record(tenant, "usage.cap.warning", data={})

    assert deliver_due() == ["retrying"]

    assert lookups == ["hooks.example.com"]
    assert receiver.connections == 0
    assert WebhookDelivery.objects.get().last_status is None


def test_a_redirect_is_a_failed_attempt_and_is_not_followed(
    tenant: Any, receiver: ReceiverServer
) -> None:
    subscribe(tenant, receiver, ["usage.cap.warning"])
    webhook_event_record(tenant, "usage.cap.warning", data={})
    receiver.answer_next(Answer(302, headers={"Location": receiver.url + "/elsewhere"}))

    assert deliver_due() == ["retrying"]

    assert len(receiver.received) == 1
    [attempt] = WebhookAttempt.objects.all()
    assert attempt.status_code == 302
    assert "redirect" in attempt.error
