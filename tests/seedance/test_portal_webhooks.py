"""The tenant admin's webhook pages: a secret shown once, field errors that change nothing,
admins only, another tenant's ids 404, rotation, deletion, test events, redelivery and a
delivery log whose page costs the same queries however many deliveries it lists."""

import re
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from seedance.compat.callback_secrets import callback_signing_secret
from seedance.models import (
    AuditEntry,
    CallbackSecret,
    Membership,
    Tenant,
    WebhookDelivery,
    WebhookEndpoint,
)
from seedance.webhooks.endpoints import webhook_endpoint_send_test, webhook_endpoint_update
from tests.seedance.webhooks import conftest as webhooks_conftest
from tests.seedance.webhooks.conftest import (
    Answer,
    ReceiverServer,
    deliver_due,
    subscribe,
    time_passes,
)

pytestmark = pytest.mark.django_db

#: The webhooks suite's loopback receiver, which the outbound guard lets these tests reach.
receiver = webhooks_conftest.receiver


@pytest.fixture
def admin_user(django_user_model: Any, tenant: Tenant) -> Any:
    user = django_user_model.objects.create_user(username="ada", email="ada@example.com")
    Membership.objects.create(user=user, tenant=tenant, role=Membership.Role.ADMIN)
    return user


@pytest.fixture
def member_user(django_user_model: Any, tenant: Tenant) -> Any:
    user = django_user_model.objects.create_user(username="max", email="max@example.com")
    Membership.objects.create(user=user, tenant=tenant, role=Membership.Role.MEMBER)
    return user


@pytest.fixture
def admin_client(client: Any, admin_user: Any) -> Any:
    client.force_login(admin_user)
    return client


def shown_secret(html: str) -> str:
    found = re.search(r'id="new-webhook-secret">([^<]+)<', html)
    assert found is not None, "no secret on the page"
    return found.group(1).strip()


def endpoint_url(endpoint: WebhookEndpoint, action: str = "") -> str:
    name = f"portal:webhook-endpoint-{action}" if action else "portal:webhook-endpoint"
    return reverse(name, args=[endpoint.pk])


def test_a_new_endpoints_secret_is_shown_once_and_signs_its_deliveries(
    admin_client: Any, tenant: Tenant, receiver: ReceiverServer
) -> None:
    response = admin_client.post(
        reverse("portal:webhooks"),
        {"url": receiver.url, "events": ["run.succeeded", "run.failed"], "description": "Prod"},
    )

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    html = response.content.decode()
    secret = shown_secret(html)
    assert secret.startswith("whsec_")
    assert "only time it is shown" in html
    endpoint = WebhookEndpoint.objects.get(tenant=tenant)
    assert (endpoint.url, endpoint.events, endpoint.description) == (
        receiver.url,
        ["run.succeeded", "run.failed"],
        "Prod",
    )
    assert f'data-endpoint="{endpoint.pk}"' in html

    for page in (reverse("portal:webhooks"), endpoint_url(endpoint)):
        again = admin_client.get(page).content.decode()
        assert secret not in again
        assert 'id="new-webhook-secret"' not in again

    receiver.secrets.append(secret)
    webhook_endpoint_send_test(endpoint)
    deliver_due()
    assert [r.payload["type"] for r in receiver.verified()] == ["webhook.test"]


#: Stands for the receiver's URL: one that passes the outbound guard in the tests.
RECEIVER = "receiver"


@pytest.mark.parametrize(
    ("data", "fields"),
    [
        ({"url": "", "events": ["run.succeeded"]}, {"url"}),
        ({"url": RECEIVER, "events": []}, {"events"}),
        ({"url": RECEIVER, "events": ["run.exploded"]}, {"events"}),
        ({"url": RECEIVER, "events": ["run.failed"], "description": "x" * 501}, {"description"}),
        ({"url": "http://10.1.2.3/hooks", "events": []}, {"url", "events"}),
    ],
    ids=["no-url", "no-events", "unknown-event", "long-description", "private-url-and-no-events"],
)
def test_bad_input_is_shown_beside_its_fields_and_creates_nothing(
    admin_client: Any, receiver: ReceiverServer, data: dict[str, Any], fields: set[str]
) -> None:
    if data["url"] == RECEIVER:
        data = {**data, "url": receiver.url}
    response = admin_client.post(reverse("portal:webhooks"), data)

    assert response.status_code == 200
    form = response.context["form"]
    assert set(form.errors) == fields
    html = response.content.decode()
    for field in fields:
        for message in form.errors[field]:
            assert str(message).replace("'", "&#x27;") in html
    assert 'id="new-webhook-secret"' not in html
    assert not WebhookEndpoint.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="webhook_endpoint").exists()


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hooks",
        "https://10.0.0.8/hooks",
        "http://169.254.169.254/latest/meta-data/",
        "https://[::1]/hooks",
        "https://[::ffff:127.0.0.1]/hooks",
        "https://2130706433/hooks",
    ],
)
def test_a_private_url_is_refused_beside_the_url_field(admin_client: Any, url: str) -> None:
    response = admin_client.post(
        reverse("portal:webhooks"), {"url": url, "events": ["run.succeeded"]}
    )

    assert response.status_code == 200
    (message,) = response.context["form"].errors["url"]
    assert message.startswith("This URL cannot receive webhooks")
    assert not WebhookEndpoint.objects.exists()


def test_editing_saves_what_is_given_and_bad_input_changes_nothing(
    admin_client: Any, tenant: Tenant, receiver: ReceiverServer
) -> None:
    endpoint = subscribe(tenant, receiver, ["run.succeeded"])

    response = admin_client.post(
        endpoint_url(endpoint),
        {"url": receiver.url, "events": ["run.failed", "run.canceled"], "description": "New"},
    )
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert (endpoint.events, endpoint.description) == (["run.failed", "run.canceled"], "New")

    refused = admin_client.post(
        endpoint_url(endpoint), {"url": "http://192.168.1.1/", "events": [], "description": "Z"}
    )
    assert refused.status_code == 200
    assert set(refused.context["form"].errors) == {"url", "events"}
    endpoint.refresh_from_db()
    assert (endpoint.url, endpoint.events, endpoint.description) == (
        receiver.url,
        ["run.failed", "run.canceled"],
        "New",
    )
    (entry,) = AuditEntry.objects.filter(action=AuditEntry.Action.WEBHOOK_ENDPOINT_CHANGED)
    assert entry.actor_label == "ada"
    assert entry.details["events"] == {
        "before": ["run.succeeded"],
        "after": ["run.failed", "run.canceled"],
    }


def test_disabling_shows_why_and_enabling_clears_it(
    admin_client: Any, tenant: Tenant, receiver: ReceiverServer
) -> None:
    endpoint = subscribe(tenant, receiver)

    admin_client.post(endpoint_url(endpoint, "enabled"), {"enabled": "false"})
    endpoint.refresh_from_db()
    assert not endpoint.enabled
    for page in (reverse("portal:webhooks"), endpoint_url(endpoint)):
        assert "Disabled by the tenant." in admin_client.get(page).content.decode()

    admin_client.post(endpoint_url(endpoint, "enabled"), {"enabled": "true"})
    endpoint.refresh_from_db()
    assert (endpoint.enabled, endpoint.disabled_reason) == (True, "")

    refused = admin_client.post(
        endpoint_url(endpoint, "enabled"), {"enabled": "maybe"}, follow=True
    )
    assert "Choose to enable or to disable" in refused.content.decode()
    endpoint.refresh_from_db()
    assert endpoint.enabled


def test_rotating_shows_the_new_secret_once_and_when_the_old_one_stops(
    admin_client: Any, tenant: Tenant, receiver: ReceiverServer
) -> None:
    endpoint = subscribe(tenant, receiver)
    (old_secret,) = receiver.secrets

    response = admin_client.post(endpoint_url(endpoint, "rotate"))

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    html = response.content.decode()
    new_secret = shown_secret(html)
    assert new_secret.startswith("whsec_")
    assert new_secret != old_secret
    endpoint.refresh_from_db()
    assert endpoint.previous_secret_expires_at is not None
    signs_until = endpoint.previous_secret_expires_at.strftime("%b %-d, %Y, %H:%M")
    assert "The previous secret also signs them until" in html
    assert signs_until in html

    again = admin_client.get(endpoint_url(endpoint)).content.decode()
    assert new_secret not in again
    assert 'id="previous-secret-note"' in again

    receiver.secrets[:] = [new_secret]
    webhook_endpoint_send_test(endpoint)
    deliver_due()
    assert [r.verified_with for r in receiver.received] == [new_secret]
    assert AuditEntry.objects.filter(action=AuditEntry.Action.WEBHOOK_SECRET_ROTATED).count() == 1


def test_deleting_removes_the_endpoint_and_its_log(
    admin_client: Any, tenant: Tenant, receiver: ReceiverServer
) -> None:
    endpoint = subscribe(tenant, receiver)
    webhook_endpoint_send_test(endpoint)
    page = admin_client.get(endpoint_url(endpoint)).content.decode()
    assert 'id="delete-endpoint-form" data-confirm=' in page

    response = admin_client.post(endpoint_url(endpoint, "delete"), follow=True)

    assert response.redirect_chain[-1][0] == reverse("portal:webhooks")
    assert f"Endpoint {receiver.url} deleted" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()
    assert not WebhookDelivery.objects.exists()
    assert admin_client.get(endpoint_url(endpoint)).status_code == 404
    assert AuditEntry.objects.filter(action=AuditEntry.Action.WEBHOOK_ENDPOINT_DELETED).exists()


def test_a_test_event_makes_a_delivery_the_log_shows(
    admin_client: Any, tenant: Tenant, receiver: ReceiverServer
) -> None:
    endpoint = subscribe(tenant, receiver, ["run.succeeded"])

    response = admin_client.post(endpoint_url(endpoint, "test"), follow=True)

    (delivery,) = WebhookDelivery.objects.filter(endpoint=endpoint)
    assert delivery.event.type == "webhook.test"
    html = response.content.decode()
    assert f"Test event {delivery.event_id} queued" in html
    assert f'data-delivery="{delivery.pk}" data-state="pending"' in html
    assert delivery.event_id in html


def test_a_disabled_endpoint_is_sent_no_test_event(
    admin_client: Any, tenant: Tenant, receiver: ReceiverServer
) -> None:
    endpoint = subscribe(tenant, receiver)
    webhook_endpoint_update(endpoint, enabled=False)

    response = admin_client.post(endpoint_url(endpoint, "test"), follow=True)

    assert "enable it to send a test event" in response.content.decode()
    assert not WebhookDelivery.objects.exists()


def test_the_log_shows_each_attempt_with_status_latency_error_and_body(
    admin_client: Any, tenant: Tenant, receiver: ReceiverServer
) -> None:
    endpoint = subscribe(tenant, receiver)
    receiver.answer_next(Answer(status=503, body=b"upstream is napping"), Answer(status=204))
    webhook_endpoint_send_test(endpoint)
    deliver_due()
    time_passes()
    deliver_due()
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == WebhookDelivery.State.DELIVERED

    html = admin_client.get(endpoint_url(endpoint)).content.decode()

    row = html[html.index(f'data-delivery="{delivery.pk}"') :]
    row = row[: row.index("</tr>")]
    assert 'data-state="delivered"' in row
    assert row.index('data-attempt="1"') < row.index('data-attempt="2"')
    assert ">503<" in row
    assert ">204<" in row
    assert "upstream is napping" in row
    for attempt in delivery.log.all():
        assert f"{attempt.latency_ms} ms" in row
    assert delivery.event_id in row
    assert "webhook.test" in row


def test_redelivering_sends_a_settled_delivery_again_and_refuses_a_pending_one(
    admin_client: Any, tenant: Tenant, receiver: ReceiverServer
) -> None:
    endpoint = subscribe(tenant, receiver)
    webhook_endpoint_send_test(endpoint)
    delivery = WebhookDelivery.objects.get()
    redeliver = reverse("portal:webhook-delivery-redeliver", args=[delivery.pk])

    refused = admin_client.post(redeliver, follow=True)
    assert "still pending" in refused.content.decode()
    assert refused.redirect_chain[-1][0] == endpoint_url(endpoint)

    deliver_due()
    delivery.refresh_from_db()
    assert delivery.state == WebhookDelivery.State.DELIVERED
    response = admin_client.post(redeliver, follow=True)
    assert "sent again shortly, with the same webhook-id" in response.content.decode()
    delivery.refresh_from_db()
    assert delivery.state == WebhookDelivery.State.PENDING
    deliver_due()
    assert [r.webhook_id for r in receiver.received] == [delivery.event_id] * 2
    assert delivery.log.count() == 2


def test_the_endpoint_page_costs_the_same_queries_for_one_delivery_or_a_page_of_them(
    admin_client: Any, tenant: Tenant, receiver: ReceiverServer
) -> None:
    endpoint = subscribe(tenant, receiver)

    def queries_for_page() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert admin_client.get(endpoint_url(endpoint)).status_code == 200
        return len(queries)

    webhook_endpoint_send_test(endpoint)
    deliver_due()
    admin_client.get(endpoint_url(endpoint))  # the session's first visit writes it
    one = queries_for_page()

    receiver.answer_next(*[Answer(status=500)] * 30)
    for _ in range(30):
        webhook_endpoint_send_test(endpoint)
    deliver_due()
    time_passes()
    deliver_due()
    assert WebhookDelivery.objects.filter(attempts=2).count() == 30
    many = queries_for_page()

    assert many == one
    page_two = admin_client.get(endpoint_url(endpoint) + "?page=2").content.decode()
    assert "Page 2 of 2" in page_two
    assert page_two.count("data-delivery=") == 31 - 20


def webhook_urls(endpoint: WebhookEndpoint, delivery: WebhookDelivery) -> list[tuple[str, str]]:
    return [
        ("get", endpoint_url(endpoint)),
        ("post", endpoint_url(endpoint)),
        ("post", endpoint_url(endpoint, "enabled")),
        ("post", endpoint_url(endpoint, "rotate")),
        ("post", endpoint_url(endpoint, "test")),
        ("post", endpoint_url(endpoint, "delete")),
        ("post", reverse("portal:webhook-delivery-redeliver", args=[delivery.pk])),
    ]


def delivered_endpoint(tenant: Tenant, receiver: ReceiverServer) -> WebhookEndpoint:
    endpoint = subscribe(tenant, receiver, ["run.succeeded"])
    webhook_endpoint_send_test(endpoint)
    deliver_due()
    return endpoint


def assert_untouched(endpoint: WebhookEndpoint) -> None:
    before = endpoint.secret_encrypted
    endpoint.refresh_from_db()
    assert (endpoint.enabled, endpoint.events, endpoint.secret_encrypted) == (
        True,
        ["run.succeeded"],
        before,
    )
    (delivery,) = WebhookDelivery.objects.filter(endpoint=endpoint)
    assert delivery.state == WebhookDelivery.State.DELIVERED


def test_every_webhook_page_is_404_for_a_member(
    client: Any, tenant: Tenant, member_user: Any, receiver: ReceiverServer
) -> None:
    endpoint = delivered_endpoint(tenant, receiver)
    delivery = WebhookDelivery.objects.get()
    client.force_login(member_user)
    data = {"url": receiver.url, "events": ["run.failed"], "enabled": "false"}

    for method, url in [
        ("get", reverse("portal:webhooks")),
        ("post", reverse("portal:webhooks")),
        *webhook_urls(endpoint, delivery),
    ]:
        assert getattr(client, method)(url, data).status_code == 404, (method, url)

    assert_untouched(endpoint)
    assert WebhookEndpoint.objects.count() == 1
    assert "portal:webhooks" not in client.get(reverse("portal:run-list")).content.decode()


def test_another_tenants_endpoint_and_deliveries_are_404(
    admin_client: Any, other_tenant: Tenant, receiver: ReceiverServer
) -> None:
    theirs = delivered_endpoint(other_tenant, receiver)
    delivery = WebhookDelivery.objects.get()
    data = {"url": receiver.url, "events": ["run.failed"], "enabled": "false"}

    for method, url in webhook_urls(theirs, delivery):
        assert getattr(admin_client, method)(url, data).status_code == 404, (method, url)

    assert_untouched(theirs)
    assert receiver.url not in admin_client.get(reverse("portal:webhooks")).content.decode()


def test_endpoint_changes_are_in_the_audit_log_without_the_secret(
    admin_client: Any, tenant: Tenant, receiver: ReceiverServer
) -> None:
    created = admin_client.post(
        reverse("portal:webhooks"), {"url": receiver.url, "events": ["run.succeeded"]}
    )
    secret = shown_secret(created.content.decode())
    endpoint = WebhookEndpoint.objects.get()
    rotated = shown_secret(admin_client.post(endpoint_url(endpoint, "rotate")).content.decode())
    admin_client.post(endpoint_url(endpoint, "enabled"), {"enabled": "false"})
    admin_client.post(endpoint_url(endpoint, "delete"))

    entries = AuditEntry.objects.for_tenant(tenant).order_by("id")
    assert [(e.action, e.actor_label) for e in entries] == [
        ("webhook_endpoint.created", "ada"),
        ("webhook_endpoint.rotated", "ada"),
        ("webhook_endpoint.changed", "ada"),
        ("webhook_endpoint.deleted", "ada"),
    ]
    log = admin_client.get(reverse("portal:audit-log")).content.decode()
    assert "Webhook endpoint added" in log
    assert "Webhook signing secret rotated" in log
    assert receiver.url in log
    for shown in (secret, rotated):
        assert all(shown not in str(entry.details) for entry in entries)
        assert shown not in log


def test_webhook_forms_carry_csrf_tokens_and_the_hub_links_the_list(
    admin_client: Any, tenant: Tenant, receiver: ReceiverServer
) -> None:
    endpoint = delivered_endpoint(tenant, receiver)
    for url in (reverse("portal:webhooks"), endpoint_url(endpoint)):
        html = admin_client.get(url).content.decode()
        assert html.count("<form") <= html.count('name="csrfmiddlewaretoken"'), url
        assert f'href="{reverse("portal:webhooks")}"' in html
    hub = admin_client.get(reverse("portal:manage")).content.decode()
    assert f'href="{reverse("portal:webhooks")}"' in hub


def test_the_event_checkboxes_carry_their_descriptions(admin_client: Any) -> None:
    html = admin_client.get(reverse("portal:webhooks")).content.decode()
    assert 'type="checkbox" name="events" value="run.succeeded"' in html
    assert "The run&#x27;s video can be fetched." in html


def test_a_callback_secret_made_in_the_portal_is_shown_once_and_signs_what_the_api_lists(
    admin_client: Any, tenant: Tenant
) -> None:
    made = admin_client.post(reverse("portal:callback-secret-create"))
    assert made.status_code == 200
    assert made["Cache-Control"] == "no-store"
    found = re.search(r'id="new-callback-secret">([^<]+)<', made.content.decode())
    assert found is not None
    secret = found.group(1).strip()
    assert re.fullmatch(r"whsec_[0-9a-f]{64}", secret)
    assert callback_signing_secret(tenant) == secret
    page = admin_client.get(reverse("portal:webhooks")).content.decode()
    assert secret not in page
    assert f"{secret[:12]}…" in page
    assert AuditEntry.objects.filter(action="callback_secret.created").count() == 1


def test_revoking_the_callback_secret_in_the_portal_leaves_callbacks_unsigned(
    admin_client: Any, tenant: Tenant
) -> None:
    admin_client.post(reverse("portal:callback-secret-create"))
    active = CallbackSecret.objects.for_tenant(tenant).get()
    response = admin_client.post(reverse("portal:callback-secret-revoke", args=[active.pk]))
    assert response.status_code == 302
    assert callback_signing_secret(tenant) is None
    page = admin_client.get(reverse("portal:webhooks")).content.decode()
    assert "callbacks are sent unsigned" in page


def test_a_member_cannot_make_or_revoke_a_callback_secret(
    client: Any, member_user: Any, tenant: Tenant
) -> None:
    client.force_login(member_user)
    assert client.post(reverse("portal:callback-secret-create")).status_code == 404
    assert not CallbackSecret.objects.exists()
