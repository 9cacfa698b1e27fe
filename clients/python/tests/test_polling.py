"""wait() polls until a terminal status or its deadline; iter_* follow every page's cursor."""

import httpx
import pytest

from client_payloads import run_json
from seedance_client import AsyncSeedanceClient, SeedanceClient, WaitTimeoutError


def client_for(handler: httpx.MockTransport) -> SeedanceClient:
    return SeedanceClient(
        "sdk_key", base_url="http://api.test", http_client=httpx.Client(transport=handler)
    )


def test_wait_polls_until_the_run_is_terminal() -> None:
    statuses = iter(["queued", "running", "succeeded"])
    transport = httpx.MockTransport(
        lambda request: httpx.Response(200, json=run_json(status=next(statuses)))
    )
    run = client_for(transport).wait("r1", timeout=5, poll_interval=0.01)
    assert run.status == "succeeded"


def test_wait_raises_a_typed_timeout_with_the_last_run() -> None:
    transport = httpx.MockTransport(
        lambda request: httpx.Response(200, json=run_json(status="running", output=None))
    )
    with pytest.raises(WaitTimeoutError) as caught:
        client_for(transport).wait("r1", timeout=0.05, poll_interval=0.01)
    assert caught.value.run.status == "running"


def page(ids: list[str], next_cursor: str | None) -> dict[str, object]:
    link = (
        f"http://elsewhere.test/api/v1/runs?cursor={next_cursor}&limit=2" if next_cursor else None
    )
    return {"next": link, "previous": None, "results": [run_json(id=run_id) for run_id in ids]}


PAGES = {None: page(["a", "b"], "c2"), "c2": page(["c", "d"], "c3"), "c3": page(["e"], None)}


def pages(request: httpx.Request) -> httpx.Response:
    assert request.url.host == "api.test"  # the cursor, not the link's host
    assert request.url.params["limit"] == "2"
    return httpx.Response(200, json=PAGES[request.url.params.get("cursor")])


def test_iter_runs_follows_every_cursor() -> None:
    runs = client_for(httpx.MockTransport(pages)).iter_runs(limit=2)
    assert [run.id for run in runs] == ["a", "b", "c", "d", "e"]


@pytest.mark.anyio
async def test_async_iter_and_wait() -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/runs"):
            return pages(request)
        return httpx.Response(200, json=run_json(status="failed", output=None))

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    async with AsyncSeedanceClient("sdk_key", base_url="http://api.test", http_client=http) as c:
        assert [run.id async for run in c.iter_runs(limit=2)] == ["a", "b", "c", "d", "e"]
        assert (await c.wait("r1", timeout=1, poll_interval=0.01)).status == "failed"
    await http.aclose()
