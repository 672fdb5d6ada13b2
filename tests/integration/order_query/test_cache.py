"""The anti-stampede cache in front of order (G31), on a real Redis: fresh hits, stale values while one
caller refreshes, and cold misses that reach the origin exactly once however many callers arrive."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from redis.asyncio import Redis

from kiwishop.order_query.cache import CacheTimeout, OriginCache
from kiwishop.order_query.store import Keys
from kiwishop.platform.redisclient import create_redis
from tests.support import eventually, unique


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


class Origin:
    """Counts its calls; each call can be held until the test releases it."""

    def __init__(self) -> None:
        self.calls = 0
        self.release = asyncio.Event()
        self.release.set()
        self.fail = False

    async def load(self) -> bytes:
        self.calls += 1
        await self.release.wait()
        if self.fail:
            raise ConnectionError("order is down")
        return b"answer-%d" % self.calls


@pytest.fixture
def keys() -> Keys:
    return Keys(unique("oq-cache"))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def make_cache(redis: Redis, keys: Keys, clock: Clock) -> Callable[..., OriginCache]:
    def make(client: Redis | None = None, **overrides: float) -> OriginCache:
        values = {"logical_ttl_s": 2.0, "physical_ttl_s": 60.0, "lock_ttl_s": 5.0, "wait_s": 10.0}
        values.update(overrides)
        return OriginCache(client or redis, keys, clock=clock, **values)

    return make


async def test_a_fresh_value_is_served_without_asking_the_origin_again(make_cache: Callable[..., OriginCache]) -> None:
    cache, origin = make_cache(), Origin()
    assert await cache.get("page", origin.load) == b"answer-1"
    assert await cache.get("page", origin.load) == b"answer-1"
    assert origin.calls == 1


async def test_a_stale_value_is_served_to_everyone_while_exactly_one_caller_refreshes_it(
    make_cache: Callable[..., OriginCache], clock: Clock
) -> None:
    cache, origin = make_cache(), Origin()
    await cache.get("page", origin.load)
    clock.now += 2.5  # past the logical TTL, inside the physical one
    origin.release.clear()
    refresher = asyncio.create_task(cache.get("page", origin.load))
    while origin.calls < 2:
        await asyncio.sleep(0.005)
    others = await asyncio.gather(*(cache.get("page", origin.load) for _ in range(20)))
    assert others == [b"answer-1"] * 20  # at once, while the refresh is still in flight
    origin.release.set()
    assert await refresher == b"answer-2"
    assert await cache.get("page", origin.load) == b"answer-2"
    assert origin.calls == 2


class CountingCache(OriginCache):
    """Counts lock attempts, so the test knows when every caller has found the value missing."""

    attempts = 0

    async def _lock(self, name: str) -> str | None:
        CountingCache.attempts += 1
        return await super()._lock(name)


async def test_fifty_concurrent_cold_misses_in_five_processes_make_exactly_one_origin_call(
    redis: Redis, keys: Keys, clock: Clock
) -> None:
    url = redis.get_connection_kwargs()
    clients = [create_redis(f"redis://{url['host']}:{url['port']}/{url['db']}") for _ in range(5)]
    try:
        caches = [
            CountingCache(client, keys, logical_ttl_s=2, physical_ttl_s=60, lock_ttl_s=5, wait_s=30, clock=clock)
            for client in clients
        ]  # one cache and connection pool per "process"
        origin = Origin()
        origin.release.clear()
        CountingCache.attempts = 0
        callers = [asyncio.create_task(caches[i % 5].get("cold", origin.load)) for i in range(50)]
        await eventually(lambda: asyncio.sleep(0, CountingCache.attempts), lambda n: n >= 50, timeout_s=20)
        assert origin.calls == 1  # everyone missed; one got the lock, 49 are waiting for its value
        origin.release.set()
        assert await asyncio.gather(*callers) == [b"answer-1"] * 50
        assert origin.calls == 1
    finally:
        for client in clients:
            await client.aclose()


async def test_a_failed_refresh_keeps_serving_the_stale_value(
    make_cache: Callable[..., OriginCache], clock: Clock
) -> None:
    cache, origin = make_cache(), Origin()
    await cache.get("page", origin.load)
    clock.now += 3
    origin.fail = True
    assert await cache.get("page", origin.load) == b"answer-1"
    origin.fail = False
    assert await cache.get("page", origin.load) == b"answer-3"  # the lock was released after the failure


async def test_a_failed_cold_load_raises_and_lets_the_next_caller_try(make_cache: Callable[..., OriginCache]) -> None:
    cache, origin = make_cache(), Origin()
    origin.fail = True
    with pytest.raises(ConnectionError):
        await cache.get("page", origin.load)
    origin.fail = False
    assert await cache.get("page", origin.load) == b"answer-2"


async def test_a_waiter_takes_over_when_the_refresher_vanishes_and_gives_up_at_its_deadline(
    make_cache: Callable[..., OriginCache], redis: Redis, keys: Keys
) -> None:
    await redis.set(keys.lock("orphan"), b"a crashed process", px=300)
    origin = Origin()
    assert await make_cache().get("orphan", origin.load) == b"answer-1"  # once the dead lock expired
    await redis.set(keys.lock("held"), b"a slow process", px=60_000)
    with pytest.raises(CacheTimeout):
        await make_cache(wait_s=0.3).get("held", origin.load)
    assert origin.calls == 1
