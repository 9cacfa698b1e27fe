"""The shared counter behind the throttles: atomic under parallel hits, on Redis (INCR) and
on the counter-row path, which never uses the database cache's read-then-write incr."""

import threading
from typing import Any

import pytest
from django.core.cache import caches
from django.core.cache.backends.db import DatabaseCache
from django.core.cache.backends.redis import RedisCache
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from seedance.models import RateCounter
from seedance.ratelimit import Rate, rate_hit, rate_parse

DB_CACHE = {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "django_cache"}
NOW = 1_800_000_000.0  # on a minute's boundary


@pytest.mark.parametrize(
    ("text", "rate"),
    [
        ("60/min", Rate(60, 60)),
        ("600/minute", Rate(600, 60)),
        ("20/5m", Rate(20, 300)),
        ("5/s", Rate(5, 1)),
        ("1000/hours", Rate(1000, 3600)),
        ("3/day", Rate(3, 86400)),
    ],
)
def test_rates_parse(text: str, rate: Rate) -> None:
    assert rate_parse(text) == rate


@pytest.mark.parametrize("text", ["", "off", "None", None])
def test_off_is_no_limit(text: str | None) -> None:
    assert rate_parse(text) is None


@pytest.mark.parametrize("text", ["60", "60/fortnight", "a/min", "60/ms"])
def test_a_malformed_rate_is_a_configuration_error(text: str) -> None:
    with pytest.raises(ImproperlyConfigured):
        rate_parse(text)


@pytest.mark.django_db
def test_a_window_admits_its_limit_then_refuses_until_it_ends() -> None:
    rate = Rate(limit=3, period=60)
    decisions = [rate_hit("t", "k", rate, now=NOW + 10) for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert decisions[-1].retry_after == 50
    assert rate_hit("t", "other", rate, now=NOW + 10).allowed  # keys count apart
    assert rate_hit("u", "k", rate, now=NOW + 10).allowed  # scopes count apart
    assert rate_hit("t", "k", rate, now=NOW + 60).allowed  # the next window


@pytest.mark.django_db
def test_the_row_path_never_uses_the_database_cache_incr(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.CACHES = {"default": {**DB_CACHE, "KEY_PREFIX": "rl-test"}}
    assert isinstance(caches["default"], DatabaseCache)

    def forbidden(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("DatabaseCache.incr is a get then a set")

    monkeypatch.setattr(DatabaseCache, "incr", forbidden)
    monkeypatch.setattr(DatabaseCache, "add", forbidden)
    rate = Rate(limit=2, period=60)
    assert [rate_hit("t", "k", rate, now=NOW).allowed for _ in range(3)] == [True, True, False]
    assert RateCounter.objects.get(scope="t", key="k").count == 2


@pytest.mark.django_db
def test_ended_windows_are_deleted_when_a_new_one_starts(settings: Any) -> None:
    settings.CACHES = {"default": {**DB_CACHE, "KEY_PREFIX": "rl-test"}}
    rate = Rate(limit=5, period=60)
    rate_hit("t", "gone", rate, now=NOW)
    rate_hit("t", "k", rate, now=NOW + 120)
    assert list(RateCounter.objects.values_list("key", flat=True)) == ["k"]


def _parallel_hits(rate: Rate, hits: int) -> list[bool]:
    barrier = threading.Barrier(hits)
    allowed: list[bool] = []

    def hit() -> None:
        barrier.wait()
        try:
            allowed.append(rate_hit("parallel", "k", rate).allowed)
        finally:
            connection.close()

    threads = [threading.Thread(target=hit) for _ in range(hits)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return allowed


@pytest.mark.django_db(transaction=True)
def test_parallel_hits_on_the_counter_row_admit_exactly_the_limit(settings: Any) -> None:
    """Runs on SQLite and on PostgreSQL: the row path whatever the shared cache."""
    settings.CACHES = {"default": {**DB_CACHE, "KEY_PREFIX": "rl-test"}}
    allowed = _parallel_hits(Rate(limit=7, period=3600), 24)
    assert allowed.count(True) == 7
    assert allowed.count(False) == 17
    assert RateCounter.objects.get(scope="parallel").count == 7


@pytest.mark.django_db(transaction=True)
def test_parallel_hits_on_redis_admit_exactly_the_limit() -> None:
    if not isinstance(caches["default"], RedisCache):
        pytest.skip("the default cache is not Redis (REDIS_URL unset)")
    allowed = _parallel_hits(Rate(limit=7, period=3600), 24)
    assert allowed.count(True) == 7
    assert not RateCounter.objects.exists()  # Redis counted, not the database
