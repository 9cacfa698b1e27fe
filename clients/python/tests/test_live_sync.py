"""The sync client against the live stack scripts/client-test.sh starts (sandbox, worker)."""

import uuid
from decimal import Decimal

import httpx
import pytest
from conftest import BASE_URL, Received

from seedance_client import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    SeedanceClient,
    ValidationError,
    verify_webhook,
)

pytestmark = pytest.mark.live

WAIT = {"timeout": 60.0, "poll_interval": 0.3}


def quick_run(client: SeedanceClient, end_user_id: str | None = None) -> str:
    run = client.create_run(
        "A fox in the snow", resolution="480p", duration=4, end_user_id=end_user_id
    )
    return run.id


def test_create_then_wait_succeeds_with_an_output_to_fetch(client: SeedanceClient) -> None:
    created = client.create_run(
        "A barista pours latte art", resolution="480p", duration=4, metadata={"order": 7}
    )
    assert created.status == "queued"
    assert created.metadata == {"order": 7}
    run = client.wait(created.id, **WAIT)
    assert run.status == "succeeded"
    assert run.completed_at is not None
    assert run.output is not None
    url = run.outputs[0].url
    assert url is not None
    video = httpx.get(url, timeout=20)
    assert video.status_code == 200
    assert len(video.content) > 1000


def test_a_repeated_idempotency_key_answers_the_same_run(client: SeedanceClient) -> None:
    key = f"client-test-{uuid.uuid4()}"
    first = client.create_run("A lighthouse at dusk", resolution="480p", idempotency_key=key)
    again = client.create_run("A lighthouse at dusk", resolution="480p", idempotency_key=key)
    assert again.id == first.id
    assert (first.replayed, again.replayed) == (False, True)
    with pytest.raises(ValidationError) as caught:
        client.create_run("Another prompt", resolution="480p", idempotency_key=key)
    assert caught.value.status == 422
    assert caught.value.code == "idempotency_key_reused"


def test_bad_input_raises_validation_error_naming_the_fields(client: SeedanceClient) -> None:
    with pytest.raises(ValidationError) as caught:
        client.create_run("A fox", resolution="4k", duration=99)
    assert caught.value.status == 400
    assert caught.value.code == "invalid_input"
    assert {"resolution", "duration"} <= set(caught.value.fields)
    assert caught.value.request_id


def test_a_wrong_key_raises_authentication_error() -> None:
    stranger = SeedanceClient("sdk_wrong_key", base_url=BASE_URL)
    with stranger, pytest.raises(AuthenticationError) as caught:
        stranger.get_limits()
    assert caught.value.status == 401


def test_an_unknown_run_raises_not_found(client: SeedanceClient) -> None:
    with pytest.raises(NotFoundError):
        client.get_run(str(uuid.uuid4()))


def test_list_pages_and_iterates_every_run(client: SeedanceClient) -> None:
    end_user = f"pager-{uuid.uuid4()}"
    made = [quick_run(client, end_user_id=end_user) for _ in range(5)]
    page = client.list_runs(end_user_id=end_user, limit=2)
    assert [run.id for run in page.results] == made[::-1][:2]
    assert page.next_cursor is not None
    second = client.list_runs(end_user_id=end_user, limit=2, cursor=page.next_cursor)
    assert [run.id for run in second.results] == made[::-1][2:4]
    assert [run.id for run in client.iter_runs(end_user_id=end_user, limit=2)] == made[::-1]


def test_cancel_stops_a_queued_run_or_says_it_is_too_late(client: SeedanceClient) -> None:
    run_id = quick_run(client)
    try:
        canceled = client.cancel_run(run_id)
    except ConflictError as exc:  # the worker claimed it first
        refused: ConflictError | None = exc
    else:
        refused = None
        assert canceled.status == "canceled"
        assert client.cancel_run(run_id).status == "canceled"
        assert client.get_run(run_id).failure is not None
    assert refused is None or refused.code == "run_not_cancelable"


def test_cancel_of_a_finished_run_is_a_conflict(client: SeedanceClient) -> None:
    run_id = quick_run(client)
    assert client.wait(run_id, **WAIT).status == "succeeded"
    with pytest.raises(ConflictError) as caught:
        client.cancel_run(run_id)
    assert caught.value.code == "run_not_cancelable"


def test_usage_limits_and_estimate_count_a_finished_run(client: SeedanceClient) -> None:
    end_user = f"usage-{uuid.uuid4()}"
    run = client.wait(quick_run(client, end_user_id=end_user), **WAIT)
    assert run.status == "succeeded"
    usage = client.get_usage(end_user_id=end_user, group_by="end_user_id")
    assert usage.currency == "usd"
    assert usage.totals.runs == 1
    assert usage.totals.seconds == 4
    assert isinstance(usage.totals.amount, Decimal)
    assert usage.totals.amount > 0
    assert [group.key for group in usage.groups] == [end_user]
    assert usage.from_ < usage.to
    assert run.charge is not None
    assert run.charge.amount == usage.totals.amount
    assert client.get_usage_csv(end_user_id=end_user).splitlines()[0]
    limits = client.get_limits(end_user_id=end_user)
    assert limits.month.cap is None
    assert limits.month.spent >= usage.totals.amount
    assert limits.end_user is not None
    assert limits.end_user.spent == usage.totals.amount
    estimate = client.estimate_price(resolution="480p", duration=4)
    assert estimate.min_seconds == estimate.max_seconds == 4
    assert estimate.min_amount == usage.totals.amount


def test_webhook_endpoint_lifecycle_with_verified_deliveries(
    client: SeedanceClient, webhook_receiver: tuple[str, Received]
) -> None:
    url, received = webhook_receiver
    assert "webhook.test" in {kind.type for kind in client.list_event_types()}
    made = client.create_webhook_endpoint(url, ["run.succeeded"], description="client tests")
    assert made.secret.startswith("whsec_")
    assert client.get_webhook_endpoint(made.id).events == ("run.succeeded",)
    assert made.id in {endpoint.id for endpoint in client.iter_webhook_endpoints(limit=1)}
    changed = client.update_webhook_endpoint(made.id, description="changed")
    assert changed.description == "changed"

    test_event = client.send_test_webhook(made.id)
    headers, body = received.wait_for(test_event.event_id)[0]
    event = verify_webhook(body, headers, made.secret)
    assert event["type"] == "webhook.test"

    run = client.wait(quick_run(client), **WAIT)
    deliveries = client.list_webhook_deliveries(made.id).results
    run_delivery = next(d for d in deliveries if d.subject_id == run.id)
    headers, body = received.wait_for(run_delivery.event_id)[0]
    assert verify_webhook(body, headers, made.secret)["data"]["id"] == run.id

    rotated = client.rotate_webhook_secret(made.id)
    assert rotated.secret != made.secret
    assert rotated.previous_secret_expires_at > rotated.updated_at
    second = client.send_test_webhook(made.id)
    headers, body = received.wait_for(second.event_id)[0]
    assert verify_webhook(body, headers, rotated.secret)["type"] == "webhook.test"
    assert verify_webhook(body, headers, made.secret)["type"] == "webhook.test"

    delivered = next(
        d for d in client.iter_webhook_deliveries(made.id) if d.event_id == test_event.event_id
    )
    assert delivered.state == "delivered"
    assert delivered.log[0].status_code == 200
    again = client.redeliver_webhook(delivered.id)
    assert again.event_id == test_event.event_id
    received.wait_for(test_event.event_id, count=2)

    client.delete_webhook_endpoint(made.id)
    with pytest.raises(NotFoundError):
        client.get_webhook_endpoint(made.id)


def test_an_unusable_webhook_url_is_a_field_error(client: SeedanceClient) -> None:
    with pytest.raises(ValidationError) as caught:
        client.create_webhook_endpoint("http://10.0.0.1/hook", ["webhook.test"])
    assert "url" in caught.value.fields
