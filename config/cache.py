"""Django's Redis cache, keeping its redis-py client instead of making one per operation.

Django's ``RedisCacheClient.get_client`` builds a ``redis.Redis`` around its pool for every
get, add or set, and redis-py's constructor fills a table of some 170 response callbacks
each time: more CPU than the command itself. The client is a thin, thread-safe wrapper
over the pool, so one per pool does the same commands. Everything else is Django's.
"""

from typing import Any

import redis
from django.core.cache.backends import redis as django_redis


class RedisCacheClient(django_redis.RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, redis.Redis] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> redis.Redis:
        pool = self._get_connection_pool(write)  # type: ignore[attr-defined]  # not in the stubs
        client = self._clients.get(id(pool))
        if client is None or client.connection_pool is not pool:
            client = self._clients[id(pool)] = redis.Redis(connection_pool=pool)
        return client


class RedisCache(django_redis.RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient
