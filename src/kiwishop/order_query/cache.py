"""A Redis cache in front of order with a logical TTL, a physical TTL and one refresher at a time.

A value is ``<logical expiry, ms since the epoch>|<bytes>`` stored with the physical TTL as Redis
expiry. ``get(name, load)``:

- fresh value (before its logical expiry) → returned; order is not asked;
- stale value → whoever takes the lock (``SET NX PX``) refreshes it and gets the new value; everyone else
  gets the stale value at once. A refresh that fails serves the stale value too;
- no value (cold, or past the physical TTL) → the same lock: one caller asks order, the others poll
  for the value it writes (up to ``wait_s``; G31: the original let every cold miss through). If the
  refresher gives up, its lock is released and the next waiter takes over.

A new lock holder reads the value again before asking order: the previous holder may have stored it
between this caller's read and its lock. ``load`` runs only in the refresher, so side effects (filling
the read model) happen once per refresh.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable

from redis.asyncio import Redis

from kiwishop.order_query.store import Keys, as_bytes
from kiwishop.platform.redisclient import Script

log = logging.getLogger("kiwishop.order_query.cache")

Loader = Callable[[], Awaitable[bytes]]

RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class CacheTimeout(Exception):
    """No value appeared while another caller held the refresh lock."""


class OriginCache:
    def __init__(
        self,
        redis: Redis,
        keys: Keys,
        *,
        logical_ttl_s: float,
        physical_ttl_s: float,
        lock_ttl_s: float,
        wait_s: float,
        poll_s: float = 0.01,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._redis = redis
        self._keys = keys
        self._logical_ms = int(logical_ttl_s * 1000)
        self._physical_ms = max(int(physical_ttl_s * 1000), self._logical_ms + 1)
        self._lock_ms = int(lock_ttl_s * 1000)
        self._wait_s = wait_s
        self._poll_s = poll_s
        self._clock = clock
        self._release = Script(redis, RELEASE)

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)

    async def get(self, name: str, load: Loader) -> bytes:
        key = self._keys.cache(name)
        deadline = time.monotonic() + self._wait_s
        while True:
            value, fresh = await self._read(key)
            if value is not None:
                return value if fresh else await self._refresh_stale(name, key, value, load)
            token = await self._lock(name)
            if token is not None:
                return await self._refresh(name, key, token, load)
            if time.monotonic() >= deadline:
                raise CacheTimeout(name)
            await asyncio.sleep(self._poll_s)

    async def _refresh_stale(self, name: str, key: str, stale: bytes, load: Loader) -> bytes:
        token = await self._lock(name)
        if token is None:
            return stale  # another caller is refreshing: serve the stale value meanwhile
        try:
            return await self._refresh(name, key, token, load)
        except Exception as exc:
            log.warning("refreshing %s failed, serving the stale value: %r", name, exc)
            return stale

    async def _read(self, key: str) -> tuple[bytes | None, bool]:
        raw = as_bytes(await self._redis.get(key))
        if raw is None:
            return None, False
        expires_ms, _, value = raw.partition(b"|")
        return value, self._now_ms() <= int(expires_ms)

    async def _refresh(self, name: str, key: str, token: str, load: Loader) -> bytes:
        try:
            value, fresh = await self._read(key)
            if value is not None and fresh:
                return value  # refreshed by the previous lock holder between our read and our lock
            value = await load()
            stamped = b"%d|%b" % (self._now_ms() + self._logical_ms, value)
            await self._redis.set(key, stamped, px=self._physical_ms)
            return value
        finally:
            await self._release([self._keys.lock(name)], [token])

    async def _lock(self, name: str) -> str | None:
        token = uuid.uuid4().hex
        taken = await self._redis.set(self._keys.lock(name), token, nx=True, px=self._lock_ms)
        return token if taken else None
