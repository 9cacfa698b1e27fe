"""REST API v1 webhook endpoints: a secret shown once that verifies real deliveries, field
errors, rotation, the delivery log, redelivery, test events, and tenant isolation."""

import json
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework.test import APIClient

from seedance.models import AuditEntry, WebhookDelivery, WebhookEndpoint
from seedance.webhooks.events import EVENT_TYPES
from tests.error_shape import assert_error_shape
from tests.seedance.webhooks import conftest as webhook_fixtures
from tests.seedance.webhooks.conftest import Answer, ReceiverServer, deliver_due, time_passes

#: The webhook tests' loopback receiver, verifying with standardwebhooks' own verifier.
receiver = webhook_fixtures.receiver

ENDPOINTS_URL = "/api/v1/webhooks/endpoints"
ENDPOINT_FIELDS = {
    "id",
    "url",
    "events",
    "description",
    "enabled",
    "disabled_reason",
    "created_at",
    "updated_at",
}
DELIVERY_FIELDS = {
    "id",
    "event_id",
    "event_type",
    "subject_id",
    "state",
    "attempts",
    "next_attempt_at",
    "delivered_at",
    "last_status",
    "last_error",
    "created_at",
    "log",
}


def endpoint_url(endpoint_id: Any, action: str = "") -> str:
    return f"{ENDPOINTS_URL}/{endpoint_id}" + (f"/{action}" if action else "")


def redeliver_url(delivery_id: Any) -> str:
    return f"/api/v1/webhooks/deliveries/{delivery_id}/redeliver"


def create(client: APIClient, receiver: ReceiverServer, **fields: Any) -> Any:
    body = {"url": receiver.url, "events": ["run.succeeded", "run.failed"], **fields}
    return client.post(ENDPOINTS_URL, body, format="json")


def created(client: APIClient, receiver: ReceiverServer, **fields: Any) -> dict[str, Any]:
    """A new endpoint's answer, its secret handed to the receiver."""
    response = create(client, receiver, **fields)
    assert response.status_code == 201, response.content
    body: dict[str, Any] = response.json()
    receiver.secrets.append(body["secret"])
    return body


def assert_field_error(response: Any, field: str) -> list[str]:
    error = assert_error_shape(response, 400, "invalid_input")
    assert field in error["fields"], error
    messages: list[str] = error["fields"][field]
    assert messages
    assert all(isinstance(message, str) for message in messages)
    return messages


# --- Create, read, list --------------------------------------------------------------


def test_create_answers_the_endpoint_and_its_secret_which_list_and_get_never_show(
    api_client: APIClient, receiver: ReceiverServer
) -> None:
    body = created(api_client, receiver, description="orders app")

    assert set(body) == ENDPOINT_FIELDS | {"secret"}
    assert body["secret"].startswith("whsec_")
    assert body["url"] == receiver.url
    assert body["events"] == ["run.succeeded", "run.failed"]
    assert body["description"] == "orders app"
    assert body["enabled"] is True
    assert body["disabled_reason"] == ""
    listed = api_client.get(ENDPOINTS_URL)
    shown = api_client.get(endpoint_url(body["id"]))
    assert listed.status_code == shown.status_code == 200
    assert [item["id"] for item in listed.json()["results"]] == [body["id"]]
    assert set(listed.json()["results"][0]) == ENDPOINT_FIELDS
    assert set(shown.json()) == ENDPOINT_FIELDS
    for response in (listed, shown):
        assert body["secret"] not in response.content.decode()
        assert body["secret"].removeprefix("whsec_") not in response.content.decode()


def test_the_secret_from_create_verifies_a_real_delivery_with_standardwebhooks(
    api_client: APIClient, receiver: ReceiverServer
) -> None:
    body = created(api_client, receiver)

    sent = api_client.post(endpoint_url(body["id"], "test"))
    assert sent.status_code == 202, sent.content
    assert sent.json()["event_type"] == "webhook.test"
    event_id = sent.json()["event_id"]
    assert event_id.startswith("msg_")
    assert deliver_due() == ["delivered"]

    (received,) = receiver.verified()
    assert received.verified_with == body["secret"]
    assert received.webhook_id == event_id
    assert received.payload["type"] == "webhook.test"
    assert receiver.handled == [event_id]


def test_the_list_is_paged_newest_first(api_client: APIClient, receiver: ReceiverServer) -> None:
    ids = [created(api_client, receiver)["id"] for _ in range(3)]

    first = api_client.get(ENDPOINTS_URL, {"limit": 2}).json()
    second = api_client.get(first["next"]).json()

    assert [e["id"] for e in first["results"] + second["results"]] == ids[::-1]
    assert second["next"] is None


def test_event_types_are_listed_with_what_they_mean(api_client: APIClient) -> None:
    response = api_client.get("/api/v1/webhooks/event-types")

    assert response.status_code == 200
    assert response.json() == {
        "results": [{"type": name, "description": text} for name, text in EVENT_TYPES.items()]
    }


# --- Bad input ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"url": "not a url"}, "url"),
        ({"url": "ftp://example.com/hooks"}, "url"),
        ({"url": "https://10.0.0.1/hooks"}, "url"),
        ({"url": "https://169.254.169.254/latest"}, "url"),
        ({"url": 42}, "url"),
        ({"url": None}, "url"),
        ({"events": ["run.exploded"]}, "events"),
        ({"events": []}, "events"),
        ({"events": "run.succeeded"}, "events"),
        ({"events": None}, "events"),
        ({"description": "x" * 501}, "description"),
        ({"description": "nul\x00byte"}, "description"),
        ({"secret": "whsec_mine"}, "secret"),
    ],
)
def test_bad_input_is_a_field_level_400_and_creates_nothing(
    api_client: APIClient, receiver: ReceiverServer, fields: dict[str, Any], field: str
) -> None:
    assert_field_error(create(api_client, receiver, **fields), field)
    assert not WebhookEndpoint.objects.exists()


def test_a_description_with_a_lone_surrogate_is_a_field_error(
    api_client: APIClient, receiver: ReceiverServer
) -> None:
    body = json.dumps({"url": receiver.url, "events": ["run.failed"], "description": "\ud800"})

    response = api_client.post(ENDPOINTS_URL, body, content_type="application/json")

    assert_field_error(response, "description")
    assert not WebhookEndpoint.objects.exists()


def test_a_loopback_url_not_allowed_by_the_settings_is_refused(
    api_client: APIClient, receiver: ReceiverServer, settings: Any
) -> None:
    settings.SEEDANCE = {**settings.SEEDANCE, "OUTBOUND_LOOPBACK_HTTP": []}

    messages = assert_field_error(create(api_client, receiver), "url")

    assert "cannot receive webhooks" in messages[0]
    assert not WebhookEndpoint.objects.exists()


def test_a_create_without_url_and_events_names_both(api_client: APIClient) -> None:
    response = api_client.post(ENDPOINTS_URL, {}, format="json")

    error = assert_error_shape(response, 400, "invalid_input")
    assert set(error["fields"]) == {"url", "events"}


def test_a_body_that_is_not_an_object_is_a_400(api_client: APIClient) -> None:
    response = api_client.post(ENDPOINTS_URL, ["run.succeeded"], format="json")

    assert_field_error(response, "non_field_errors")


# --- Update and delete ----------------------------------------------------------------


def test_patch_changes_only_what_is_given(api_client: APIClient, receiver: ReceiverServer) -> None:
    body = created(api_client, receiver, description="before")

    response = api_client.patch(
        endpoint_url(body["id"]), {"events": ["run.canceled"]}, format="json"
    )

    assert response.status_code == 200, response.content
    assert response.json()["events"] == ["run.canceled"]
    assert response.json()["description"] == "before"
    assert response.json()["url"] == receiver.url
    assert WebhookEndpoint.objects.get().events == ["run.canceled"]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"enabled": "false"}, "enabled"),
        ({"enabled": None}, "enabled"),
        ({"url": None}, "url"),
        ({"url": "https://127.0.0.1/hooks"}, "url"),
        ({"events": []}, "events"),
        ({"secret": "whsec_mine"}, "secret"),
    ],
)
def test_a_bad_patch_is_a_field_level_400_and_changes_nothing(
    api_client: APIClient, receiver: ReceiverServer, fields: dict[str, Any], field: str
) -> None:
    body = created(api_client, receiver)
    before = WebhookEndpoint.objects.values().get()

    assert_field_error(api_client.patch(endpoint_url(body["id"]), fields, format="json"), field)

    assert WebhookEndpoint.objects.values().get() == before


def test_patch_enabled_false_then_true(api_client: APIClient, receiver: ReceiverServer) -> None:
    body = created(api_client, receiver)

    disabled = api_client.patch(endpoint_url(body["id"]), {"enabled": False}, format="json")
    assert disabled.status_code == 200
    assert disabled.json()["enabled"] is False
    assert disabled.json()["disabled_reason"]
    refused = api_client.post(endpoint_url(body["id"], "test"))
    assert_error_shape(refused, 409, "webhook_action_refused")
    assert not WebhookDelivery.objects.exists()

    enabled = api_client.patch(endpoint_url(body["id"]), {"enabled": True}, format="json")
    assert enabled.json()["enabled"] is True
    assert enabled.json()["disabled_reason"] == ""
    assert api_client.post(endpoint_url(body["id"], "test")).status_code == 202


def test_delete_answers_204_and_the_endpoint_and_its_log_are_gone(
    api_client: APIClient, receiver: ReceiverServer
) -> None:
    body = created(api_client, receiver)
    api_client.post(endpoint_url(body["id"], "test"))
    deliver_due()

    response = api_client.delete(endpoint_url(body["id"]))

    assert response.status_code == 204
    assert response.content == b""
    assert_error_shape(api_client.get(endpoint_url(body["id"])), 404, "not_found")
    assert not WebhookEndpoint.objects.exists()
    assert not WebhookDelivery.objects.exists()


# --- Rotation -------------------------------------------------------------------------


def test_rotate_answers_a_new_secret_and_both_sign_during_the_overlap(
    api_client: APIClient, receiver: ReceiverServer, settings: Any
) -> None:
    body = created(api_client, receiver)
    old_secret = receiver.secrets.pop()

    response = api_client.post(endpoint_url(body["id"], "rotate-secret"))

    assert response.status_code == 200, response.content
    rotated = response.json()
    assert set(rotated) == ENDPOINT_FIELDS | {"secret", "previous_secret_expires_at"}
    assert rotated["secret"].startswith("whsec_")
    assert rotated["secret"] != old_secret
    overlap = timedelta(seconds=settings.SEEDANCE["WEBHOOK_SECRET_OVERLAP_SECONDS"])
    expires = parse_datetime(rotated["previous_secret_expires_at"])
    assert expires is not None
    assert abs(expires - (timezone.now() + overlap)) < timedelta(minutes=1)
    assert rotated["secret"] not in api_client.get(endpoint_url(body["id"])).content.decode()
    for secret in (old_secret, rotated["secret"]):
        receiver.secrets[:] = [secret]
        api_client.post(endpoint_url(body["id"], "test"))
        assert deliver_due() == ["delivered"]
        assert receiver.received[-1].verified_with == secret


# --- The delivery log and redelivery -----------------------------------------------------


def test_the_delivery_log_shows_each_attempt_of_a_failing_then_succeeding_receiver(
    api_client: APIClient, receiver: ReceiverServer
) -> None:
    body = created(api_client, receiver)
    receiver.answer_next(Answer(status=500, body=b"down for a moment"))
    event_id = api_client.post(endpoint_url(body["id"], "test")).json()["event_id"]
    deliver_due()
    time_passes()
    deliver_due()

    response = api_client.get(endpoint_url(body["id"], "deliveries"))

    assert response.status_code == 200, response.content
    (delivery,) = response.json()["results"]
    assert set(delivery) == DELIVERY_FIELDS
    assert delivery["event_id"] == event_id
    assert delivery["event_type"] == "webhook.test"
    assert delivery["state"] == "delivered"
    assert delivery["attempts"] == 2
    assert delivery["last_status"] == 200
    assert delivery["delivered_at"]
    log = delivery["log"]
    assert [a["number"] for a in log] == [1, 2]
    assert [a["status_code"] for a in log] == [500, 200]
    assert log[0]["response_body"] == "down for a moment"
    assert log[1]["response_body"] == "ok"
    assert all(a["sent_at"] and a["latency_ms"] >= 0 for a in log)


def test_the_delivery_log_is_newest_first_in_queries_independent_of_the_page_size(
    api_client: APIClient, receiver: ReceiverServer, settings: Any
) -> None:
    """The key, the endpoint, a page of deliveries with their events, and their attempts.
    The key cache is off: a cached key costs a query on the database cache, none on Redis."""
    settings.SEEDANCE = {
        **settings.SEEDANCE,
        "API_READ_RATE": "off",
        "API_CREATE_RATE": "off",
        "API_KEY_CACHE_SECONDS": 0,
    }
    body = created(api_client, receiver)
    event_ids = [
        api_client.post(endpoint_url(body["id"], "test")).json()["event_id"] for _ in range(6)
    ]
    receiver.answer_next(*[Answer(status=503)] * 6)
    deliver_due()
    time_passes()
    deliver_due()

    counts = []
    for limit in (1, 6):
        with CaptureQueriesContext(connection) as queries:
            response = api_client.get(endpoint_url(body["id"], "deliveries"), {"limit": limit})
        assert response.status_code == 200
        assert all(len(d["log"]) == 2 for d in response.json()["results"])
        counts.append(len(queries))

    assert counts == [4, 4]
    assert [d["event_id"] for d in response.json()["results"]] == event_ids[::-1]


def test_redeliver_answers_202_then_409_while_pending(
    api_client: APIClient, receiver: ReceiverServer
) -> None:
    body = created(api_client, receiver)
    event_id = api_client.post(endpoint_url(body["id"], "test")).json()["event_id"]
    deliver_due()
    delivery = WebhookDelivery.objects.get()

    again = api_client.post(redeliver_url(delivery.pk))
    assert again.status_code == 202, again.content
    assert again.json()["state"] == "pending"
    assert again.json()["event_id"] == event_id
    assert len(again.json()["log"]) == 1
    assert_error_shape(api_client.post(redeliver_url(delivery.pk)), 409, "webhook_action_refused")

    assert deliver_due() == ["delivered"]
    assert [r.webhook_id for r in receiver.verified()] == [event_id, event_id]


@pytest.mark.parametrize("delivery_id", ["abc", "0", "-1", "1.5", "9" * 30, "\u0661"])
def test_a_malformed_delivery_id_is_404(api_client: APIClient, delivery_id: str) -> None:
    assert_error_shape(api_client.post(redeliver_url(delivery_id)), 404, "not_found")


@pytest.mark.parametrize("action", ["", "rotate-secret", "deliveries", "test"])
def test_a_malformed_endpoint_id_is_404(api_client: APIClient, action: str) -> None:
    method = api_client.get if action in ("", "deliveries") else api_client.post
    assert_error_shape(method(endpoint_url("not-a-uuid", action)), 404, "not_found")


# --- Tenant isolation -----------------------------------------------------------------


def test_another_tenants_key_gets_404_on_every_operation_and_changes_nothing(
    api_client: APIClient, other_api_client: APIClient, receiver: ReceiverServer
) -> None:
    body = created(api_client, receiver)
    api_client.post(endpoint_url(body["id"], "test"))
    deliver_due()
    delivery = WebhookDelivery.objects.get()
    endpoint_before = WebhookEndpoint.objects.values().get()
    delivery_before = WebhookDelivery.objects.values().get()
    unknown = "00000000-0000-4000-8000-000000000000"

    for target in (body["id"], unknown):
        answers = [
            other_api_client.get(endpoint_url(target)),
            other_api_client.patch(endpoint_url(target), {"enabled": False}, format="json"),
            other_api_client.delete(endpoint_url(target)),
            other_api_client.post(endpoint_url(target, "rotate-secret")),
            other_api_client.post(endpoint_url(target, "test")),
            other_api_client.get(endpoint_url(target, "deliveries")),
        ]
        for answer in answers:
            assert answer.json() == {
                "error": {"code": "not_found", "message": "Not found.", "fields": {}}
            }
            assert answer.status_code == 404
    assert other_api_client.post(redeliver_url(delivery.pk)).status_code == 404
    assert other_api_client.get(ENDPOINTS_URL).json()["results"] == []

    assert WebhookEndpoint.objects.values().get() == endpoint_before
    assert WebhookDelivery.objects.values().get() == delivery_before
    assert WebhookDelivery.objects.count() == 1
    assert deliver_due() == []


# --- Throttles --------------------------------------------------------------------------


def test_creates_and_sends_count_against_the_create_rate(
    api_client: APIClient, receiver: ReceiverServer, settings: Any
) -> None:
    settings.SEEDANCE = {**settings.SEEDANCE, "API_CREATE_RATE": "2/hour"}
    body = created(api_client, receiver)
    assert api_client.post(endpoint_url(body["id"], "test")).status_code == 202

    refused = api_client.post(endpoint_url(body["id"], "test"))

    assert_error_shape(refused, 429, "rate_limited")
    assert refused["Retry-After"]
    assert api_client.get(ENDPOINTS_URL).status_code == 200


# --- Authentication -------------------------------------------------------------------

UNKNOWN_ENDPOINT = "00000000-0000-4000-8000-000000000000"
OPERATIONS = [
    ("post", ENDPOINTS_URL),
    ("get", ENDPOINTS_URL),
    ("get", endpoint_url(UNKNOWN_ENDPOINT)),
    ("patch", endpoint_url(UNKNOWN_ENDPOINT)),
    ("delete", endpoint_url(UNKNOWN_ENDPOINT)),
    ("post", endpoint_url(UNKNOWN_ENDPOINT, "rotate-secret")),
    ("post", endpoint_url(UNKNOWN_ENDPOINT, "test")),
    ("get", endpoint_url(UNKNOWN_ENDPOINT, "deliveries")),
    ("post", redeliver_url(1)),
    ("get", "/api/v1/webhooks/event-types"),
]


@pytest.mark.parametrize(("method", "url"), OPERATIONS)
def test_every_webhook_operation_needs_a_key(db: None, method: str, url: str) -> None:
    response = getattr(APIClient(), method)(url, {}, format="json")

    assert_error_shape(response, 401)
    assert response["WWW-Authenticate"] == "Bearer"
    assert not WebhookEndpoint.objects.exists()


def test_endpoint_changes_made_through_the_api_are_audited_under_the_key_never_the_secret(
    api_client: APIClient, receiver: ReceiverServer, issued_key: Any
) -> None:
    body = created(api_client, receiver)
    api_client.patch(endpoint_url(body["id"]), {"description": "orders"}, format="json")
    rotated = api_client.post(endpoint_url(body["id"], "rotate-secret")).json()
    api_client.delete(endpoint_url(body["id"]))

    entries = list(AuditEntry.objects.filter(action__startswith="webhook_endpoint.").order_by("pk"))
    assert [entry.action for entry in entries] == [
        "webhook_endpoint.created",
        "webhook_endpoint.changed",
        "webhook_endpoint.rotated",
        "webhook_endpoint.deleted",
    ]
    assert {entry.actor_role for entry in entries} == {"api_key"}
    assert all(issued_key.api_key.prefix in entry.actor_label for entry in entries)
    logged = json.dumps([entry.details for entry in entries])
    assert body["secret"] not in logged
    assert rotated["secret"] not in logged
