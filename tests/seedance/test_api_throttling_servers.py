"""A burst of 100 creates from one key, with the default rates, spread over two real web
processes sharing the database and the cache (Redis in the PostgreSQL run, the counter rows
in the SQLite run): exactly the create rate is admitted, the rest answer 429 ``rate_limited``
with Retry-After, and another tenant is served meanwhile."""

from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from seedance.models import Run, Tenant
from seedance.services.keys import api_key_issue
from tests.factories import SYSTEM
from tests.seedance.accounts.servers import Server, two_servers
from tests.seedance.test_api_throttling import RUN, fresh_window

pytestmark = pytest.mark.django_db(transaction=True)

DEFAULT_CREATE_RATE = 60  # "60/min", config/settings.py


@pytest.fixture
def servers() -> Iterator[list[Server]]:
    with two_servers() as pair:
        yield pair


def bearer(tenant: Tenant) -> dict[str, str]:
    secret = api_key_issue(tenant=tenant, name="burst", actor=SYSTEM).secret
    return {"Authorization": f"Bearer {secret}"}


def test_a_burst_of_100_creates_from_one_key_meets_rate_limited_on_both_processes(
    servers: list[Server], tenant: Tenant, other_tenant: Tenant
) -> None:
    headers, other_headers = bearer(tenant), bearer(other_tenant)

    def create(n: int) -> httpx.Response:
        server = servers[n % 2]
        return server.client.post("/api/v1/runs", json=RUN, headers=headers)

    def other_tenant_works(n: int) -> list[int]:
        """Another tenant creates and reads on either process, in the middle of the burst."""
        server = servers[n % 2]
        created = server.client.post("/api/v1/runs", json=RUN, headers=other_headers)
        listed = server.client.get("/api/v1/runs", headers=other_headers)
        return [created.status_code, listed.status_code]

    fresh_window(margin=30)
    with ThreadPoolExecutor(max_workers=8) as pool:
        burst = [pool.submit(create, n) for n in range(100)]
        meanwhile = [pool.submit(other_tenant_works, n) for n in range(4)]
        answers = [future.result() for future in burst]
        others = [future.result() for future in meanwhile]

    assert Counter(a.status_code for a in answers) == {
        201: DEFAULT_CREATE_RATE,
        429: 100 - DEFAULT_CREATE_RATE,
    }
    refused = [a for a in answers if a.status_code == 429]
    assert {a.json()["error"]["code"] for a in refused} == {"rate_limited"}
    assert all(1 <= int(a.headers["Retry-After"]) <= 60 for a in refused)
    assert {a.request.url.port for a in refused} == {s.client.base_url.port for s in servers}
    assert Run.objects.filter(tenant=tenant).count() == DEFAULT_CREATE_RATE
    assert others == [[201, 200]] * 4
    # The throttled key still reads: creates and reads count apart.
    assert servers[0].client.get("/api/v1/runs", headers=headers).status_code == 200
