"""The async client against the same live stack: the same calls, awaited."""

import asyncio
import uuid

import pytest
from conftest import BASE_URL, Received

from seedance_client import (
    AsyncSeedanceClient,
    AuthenticationError,
    NotFoundError,
    ValidationError,
    verify_webhook,
)

pytestmark = [pytest.mark.live, pytest.mark.anyio]

WAIT = {"timeout": 60.0, "poll_interval": 0.3}


async def test_create_then_wait_succeeds(aclient: AsyncSeedanceClient) -> None:
    created = await aclient.create_run("An owl at night", resolution="480p", duration=4)
    run = await aclient.wait(created.id, **WAIT)
    assert run.status == "succeeded"
    assert run.outputs[0].url is not None


async def test_concurrent_creates_with_one_key_make_one_run(aclient: AsyncSeedanceClient) -> None:
    key = f"client-test-{uuid.uuid4()}"
    runs = await asyncio.gather(
        *(aclient.create_run("A kite", resolution="480p", idempotency_key=key) for _ in range(3))
    )
    assert len({run.id for run in runs}) == 1
    assert sorted(run.replayed for run in runs) == [False, True, True]


async def test_bad_input_and_a_wrong_key_raise_typed_errors(aclient: AsyncSeedanceClient) -> None:
    with pytest.raises(ValidationError) as caught:
        await aclient.create_run("   ")
    assert "prompt" in caught.value.fields
    async with AsyncSeedanceClient("sdk_wrong_key", base_url=BASE_URL) as stranger:
        with pytest.raises(AuthenticationError):
            await stranger.list_runs()


async def test_async_iteration_follows_every_page(aclient: AsyncSeedanceClient) -> None:
    end_user = f"apager-{uuid.uuid4()}"
    made = [
        (await aclient.create_run("A wave", resolution="480p", end_user_id=end_user)).id
        for _ in range(3)
    ]
    seen = [run.id async for run in aclient.iter_runs(end_user_id=end_user, limit=1)]
    assert seen == made[::-1]


async def test_usage_and_limits(aclient: AsyncSeedanceClient) -> None:
    usage = await aclient.get_usage(group_by="resolution")
    assert usage.currency == "usd"
    limits = await aclient.get_limits()
    assert limits.max_in_flight_runs is None


async def test_webhook_endpoint_create_rotate_test_delete(
    aclient: AsyncSeedanceClient, webhook_receiver: tuple[str, Received]
) -> None:
    url, received = webhook_receiver
    made = await aclient.create_webhook_endpoint(url, ["run.failed"])
    rotated = await aclient.rotate_webhook_secret(made.id)
    event = await aclient.send_test_webhook(made.id)
    headers, body = (await asyncio.to_thread(received.wait_for, event.event_id))[0]
    assert verify_webhook(body, headers, rotated.secret)["type"] == "webhook.test"
    page = await aclient.list_webhook_deliveries(made.id)
    assert event.event_id in {delivery.event_id for delivery in page.results}
    await aclient.delete_webhook_endpoint(made.id)
    with pytest.raises(NotFoundError):
        await aclient.get_webhook_endpoint(made.id)
