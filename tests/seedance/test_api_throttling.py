"""Per-key API throttles and the failed-authentication limit per client address (issue 10,
point 8): 429 ``rate_limited`` with Retry-After, counted once across threads and processes."""

import threading
import time
from collections import Counter
from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient

from seedance.models import Run
from seedance.services.keys import api_key_issue
from tests.factories import SYSTEM

RUNS_URL = "/api/v1/runs"
RUN = {"prompt": "a heron in reeds", "duration": "5", "resolution": "720p"}
BAD_KEY = "Bearer sdk_nothing0_" + "x" * 40


def fresh_window(period: int = 60, margin: float = 20.0) -> None:
    """Counts are per fixed window: start a burst well before the window ends."""
    left = period - time.time() % period
    if left < margin:
        time.sleep(left + 0.05)


def create(client: APIClient) -> Any:
    return client.post(RUNS_URL, RUN, format="json")


def rates(settings: Any, **values: str) -> None:
    settings.SEEDANCE = {**settings.SEEDANCE, **values}


def assert_rate_limited(answer: Any, code: str = "rate_limited") -> None:
    assert answer.status_code == 429
    assert answer.json()["error"]["code"] == code
    assert set(answer.json()["error"]) == {"code", "message", "fields"}
    assert int(answer["Retry-After"]) >= 1


def test_creates_past_the_create_rate_answer_rate_limited_with_retry_after(
    api_client: APIClient, tenant: Any, settings: Any
) -> None:
    rates(settings, API_CREATE_RATE="3/hour")
    assert [create(api_client).status_code for _ in range(3)] == [201, 201, 201]
    refused = create(api_client)
    assert_rate_limited(refused)
    assert Run.objects.filter(tenant=tenant).count() == 3  # the refused create made nothing


def test_reads_have_their_own_rate(api_client: APIClient, settings: Any) -> None:
    rates(settings, API_CREATE_RATE="1/hour", API_READ_RATE="4/hour")
    assert create(api_client).status_code == 201
    assert_rate_limited(create(api_client))
    assert [api_client.get(RUNS_URL).status_code for _ in range(4)] == [200] * 4
    assert_rate_limited(api_client.get(RUNS_URL))
    assert_rate_limited(api_client.get("/api/v1/usage"))  # every API read shares the rate


def test_another_tenant_is_served_while_one_key_is_throttled(
    api_client: APIClient, other_api_client: APIClient, settings: Any
) -> None:
    rates(settings, API_CREATE_RATE="2/hour")
    for _ in range(2):
        assert create(api_client).status_code == 201
    assert_rate_limited(create(api_client))
    assert create(other_api_client).status_code == 201
    assert other_api_client.get(RUNS_URL).status_code == 200


def test_each_key_of_a_tenant_has_its_own_count(
    api_client: APIClient, tenant: Any, settings: Any
) -> None:
    rates(settings, API_CREATE_RATE="1/hour")
    assert create(api_client).status_code == 201
    assert_rate_limited(create(api_client))
    second = APIClient()
    secret = api_key_issue(tenant=tenant, name="second", actor=SYSTEM).secret
    second.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert create(second).status_code == 201


def test_off_disables_a_rate(api_client: APIClient, settings: Any) -> None:
    rates(settings, API_READ_RATE="off")
    assert all(api_client.get(RUNS_URL).status_code == 200 for _ in range(30))


def test_two_hundred_bad_keys_from_one_address_meet_429_and_a_valid_key_is_served(
    api_client: APIClient,
) -> None:
    guesser = APIClient(REMOTE_ADDR="203.0.113.7")
    guesser.credentials(HTTP_AUTHORIZATION=BAD_KEY)
    statuses: Counter[int] = Counter()
    fresh_window()
    for _ in range(200):
        answer = guesser.get(RUNS_URL)
        statuses[answer.status_code] += 1
        if answer.status_code == 429:
            assert_rate_limited(answer, "authentication_rate_limited")
    assert statuses == {401: 20, 429: 180}  # the default: 20 bad keys a minute
    valid = APIClient(REMOTE_ADDR="203.0.113.7")
    valid.credentials(HTTP_AUTHORIZATION=api_client._credentials["HTTP_AUTHORIZATION"])
    assert valid.get(RUNS_URL).status_code == 200
    elsewhere = APIClient(REMOTE_ADDR="198.51.100.9")
    elsewhere.credentials(HTTP_AUTHORIZATION=BAD_KEY)
    assert elsewhere.get(RUNS_URL).status_code == 401


def test_valid_keys_never_count_as_failures(api_client: APIClient, settings: Any) -> None:
    rates(settings, API_AUTH_FAILURE_RATE="2/hour")
    for _ in range(5):
        assert api_client.get(RUNS_URL, REMOTE_ADDR="203.0.113.7").status_code == 200
    guesser = APIClient(REMOTE_ADDR="203.0.113.7")
    guesser.credentials(HTTP_AUTHORIZATION=BAD_KEY)
    assert [guesser.get(RUNS_URL).status_code for _ in range(3)] == [401, 401, 429]


def test_failures_are_counted_per_address_behind_the_trusted_proxies(
    settings: Any, db: None
) -> None:
    rates(settings, API_AUTH_FAILURE_RATE="2/hour", TRUSTED_PROXY_COUNT=1)
    guesser = APIClient(REMOTE_ADDR="10.0.0.2")  # the proxy
    guesser.credentials(HTTP_AUTHORIZATION=BAD_KEY)
    # A forged left part of X-Forwarded-For changes nothing: the proxy's entry counts.
    statuses = [
        guesser.get(RUNS_URL, HTTP_X_FORWARDED_FOR=f"192.0.2.{n}, 203.0.113.7").status_code
        for n in range(3)
    ]
    assert statuses == [401, 401, 429]
    other = guesser.get(RUNS_URL, HTTP_X_FORWARDED_FOR="198.51.100.9")
    assert other.status_code == 401  # another client behind the same proxy


def test_ipv6_failures_are_counted_per_64(settings: Any, db: None) -> None:
    rates(settings, API_AUTH_FAILURE_RATE="2/hour")
    statuses = []
    for host in ("2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2:ffff::3"):
        guesser = APIClient(REMOTE_ADDR=host)
        guesser.credentials(HTTP_AUTHORIZATION=BAD_KEY)
        statuses.append(guesser.get(RUNS_URL).status_code)
    assert statuses == [401, 401, 429]


@pytest.mark.django_db(transaction=True)
def test_parallel_creates_over_the_limit_admit_exactly_the_limit(
    tenant: Any, issued_key: Any, other_api_client: APIClient, settings: Any
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("real parallel writers need PostgreSQL")
    rates(settings, API_CREATE_RATE="10/hour")
    barrier = threading.Barrier(30)
    statuses: list[int] = []
    codes: list[str] = []

    def one() -> None:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued_key.secret}")
        barrier.wait()
        try:
            answer = create(client)
            statuses.append(answer.status_code)
            if answer.status_code == 429:
                codes.append(answer.json()["error"]["code"])
        finally:
            connection.close()

    threads = [threading.Thread(target=one) for _ in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Counter(statuses) == {201: 10, 429: 20}
    assert set(codes) == {"rate_limited"}
    assert Run.objects.filter(tenant=tenant).count() == 10
    assert create(other_api_client).status_code == 201
