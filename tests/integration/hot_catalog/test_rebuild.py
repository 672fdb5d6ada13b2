"""``kiwishop rebuild-hot-catalog`` on real MariaDB and Redis: the three source schemas are created with
the services' own migrations and filled with rows, the live consumer's path gets the events those rows
came from, and the rebuilt ranking must equal what that path built — after a FLUSHALL, twice in a row,
and while the consumer keeps applying events.

The ranking lives in a Redis database of its own (``/10``, ``conftest.rb_infra``), so FLUSHDB here is the
FLUSHALL of the scenario without touching other tests' keys. The schemas and their rows: ``conftest.schemas``
and ``conftest.world``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import time
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from kiwishop.hot_catalog import consumers
from kiwishop.hot_catalog.domain import SEOUL
from kiwishop.hot_catalog.ranking import Ranking, RankingRebuilding
from kiwishop.hot_catalog.rebuild import RebuildResult, rebuild
from kiwishop.hot_catalog.settings import HotCatalogSettings
from kiwishop.ops.hot_catalog_sources import SchemaNames, open_sources
from kiwishop.platform.consumer import infrastructure_down
from kiwishop.platform.envelope import Envelope
from kiwishop.platform.redisclient import create_redis
from kiwishop.platform.settings import InfraSettings
from tests.integration.hot_catalog.events import liked, paid
from tests.integration.hot_catalog.sources import World, numbers
from tests.support import unique

NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=SEOUL)
Snapshot = tuple[list[tuple[int, int]], dict[bytes, dict[bytes, bytes]]]


@pytest.fixture
async def redis(rb_infra: InfraSettings) -> AsyncIterator[Redis]:
    client = create_redis(rb_infra.redis_url)
    await client.flushdb()
    yield client
    await client.aclose()


@pytest.fixture
def settings(rb_infra: InfraSettings) -> HotCatalogSettings:
    return HotCatalogSettings(infra=rb_infra, key_prefix=unique("hot-rb"))


async def live(ranking: Ranking, events: list[Envelope], *, wait_for_rebuild: bool = False) -> None:
    """The consumer's path: one handler call per event; while a clear holds the fence it waits and retries,
    as the runner does for an outage."""
    handlers = {kind.name: handler for kind, handler in consumers.handlers(ranking, lambda: NOW).items()}
    for event in events:
        deadline = time.monotonic() + 30  # a fence never lifted fails the test here, not at the runner's timeout
        while True:
            try:
                await handlers[event.type](event)
                break
            except RankingRebuilding:
                if not wait_for_rebuild or time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.001)


async def snapshot(redis: Redis, ranking: Ranking) -> Snapshot:
    """The ranking as the list shows it (checked against the raw ZSET) and every product hash but its clock."""
    listing = [(e.product_no, e.score) for e in await ranking.page(NOW, 0, 10_000)]
    raw = {int(m): int(s) for m, s in await redis.zrevrange(ranking.list_key(NOW), 0, -1, withscores=True)}
    assert dict(listing) == raw
    hashes = {}
    async for key in redis.scan_iter(match=ranking.product_key(0)[:-1] + "*"):
        hashes[key] = {k: v for k, v in (await redis.hgetall(key)).items() if k != b"updated_at"}
    return listing, hashes


async def rebuilt(settings: HotCatalogSettings, redis: Redis, names: SchemaNames, batch_size: int = 4) -> RebuildResult:
    async with open_sources(settings.infra, names, chunk=2) as sources:  # chunks of 2: every keyset step runs
        return await rebuild(settings, sources, redis=redis, batch_size=batch_size, clock=lambda: NOW)


async def test_after_a_flushall_the_rebuilt_ranking_equals_what_the_consumer_built_from_the_same_events(
    world: World, schemas: SchemaNames, settings: HotCatalogSettings, redis: Redis
) -> None:
    await world.shop()
    ranking = Ranking.for_settings(redis, settings)
    delivered = world.events + random.sample(world.events, k=len(world.events) // 3)
    random.shuffle(delivered)  # redelivered and out of order, as a broker may
    await live(ranking, delivered)
    expected = await snapshot(redis, ranking)
    assert len(expected[0]) == 6
    await redis.flushdb()
    assert await snapshot(redis, ranking) == ([], {})
    result = await rebuilt(settings, redis, schemas)
    assert await snapshot(redis, ranking) == expected  # same scores, same order, same totals and versions
    assert (result.paid_orders, result.paid_already_applied, result.paid_without_event_id) == (4, 0, 0)
    assert (result.totals, len(result.products), result.ranked) == (9, 6, 6)
    assert "4 paid orders" in result.summary()


async def test_rebuilding_twice_changes_nothing(
    world: World, schemas: SchemaNames, settings: HotCatalogSettings, redis: Redis
) -> None:
    await world.shop()
    ranking = Ranking.for_settings(redis, settings)
    await rebuilt(settings, redis, schemas)
    first = await snapshot(redis, ranking)
    second = await rebuilt(settings, redis, schemas)
    assert await snapshot(redis, ranking) == first
    assert second.cleared_keys > 0
    assert (second.paid_already_applied, second.totals_superseded) == (0, 0)


async def test_a_payment_confirm_delivered_after_the_rebuild_counts_once_and_a_newer_like_wins(
    world: World, schemas: SchemaNames, settings: HotCatalogSettings, redis: Redis
) -> None:
    await world.shop()
    confirm = await world.order(6, 6)
    assert confirm is not None
    ranking = Ranking.for_settings(redis, settings)
    await rebuilt(settings, redis, schemas)
    before = await snapshot(redis, ranking)
    await live(ranking, [confirm])  # the consumer was behind: same eventId as the replayed order
    await live(ranking, [liked(6, 1, 0)])  # an older like total arriving late
    assert await snapshot(redis, ranking) == before
    assert await redis.hget(ranking.product_key(6), "paid") == b"3"
    await live(ranking, [liked(6, 40, 99)])
    assert await redis.hmget(ranking.product_key(6), ["likes", "likes_version"]) == [b"40", b"99"]
    assert dict((await snapshot(redis, ranking))[0])[6] == dict(before[0])[6] + 2 * (40 - 4)


async def test_events_the_consumer_applies_while_the_rebuild_runs_are_counted_exactly_once(
    world: World, schemas: SchemaNames, settings: HotCatalogSettings, redis: Redis
) -> None:
    await world.shop()
    for product in (7, 8, 9):
        await world.order(product, 1)
        await world.likes(product, [1, 2])
    reference = Ranking(redis, prefix=unique("hot-rb-reference"))
    await live(reference, world.events)
    ranking = Ranking.for_settings(redis, settings)
    half = len(world.events) // 2
    await live(ranking, world.events[:half])  # applied before the rebuild; the rest is still on its way
    rest = world.events[half:] + world.events[:half]  # and the early half delivered again
    random.shuffle(rest)
    result, _ = await asyncio.gather(
        rebuilt(settings, redis, schemas, batch_size=1), live(ranking, rest, wait_for_rebuild=True)
    )
    assert (await snapshot(redis, ranking))[0] == (await snapshot(redis, reference))[0]
    assert result.paid_orders == 7


async def test_while_a_clear_holds_the_fence_an_event_waits_as_for_an_outage_and_then_applies_once(
    settings: HotCatalogSettings, redis: Redis
) -> None:
    ranking = Ranking.for_settings(redis, settings)
    confirm = paid(3, 3)
    await redis.set(ranking.fence_key, b"a clear in progress", px=10_000)
    with pytest.raises(RankingRebuilding) as held_back:
        await live(ranking, [confirm])
    assert infrastructure_down(held_back.value)  # the runner waits; the record is never parked
    assert await redis.exists(ranking.applied_key(confirm.event_id), ranking.product_key(3)) == 0
    await redis.delete(ranking.fence_key)
    await live(ranking, [confirm, confirm])
    assert await redis.hget(ranking.product_key(3), "paid") == b"2"


class ClearWithTraffic(Ranking):
    """A consumer tries to apply an event between every two batches of this ranking's clear."""

    outcomes: list[int | str]

    async def _unlink(self, token: str, keys: list[bytes]) -> int:
        try:
            self.outcomes.append(await self.apply_paid_lines(next(numbers), {1: 1}, NOW))
        except RankingRebuilding:
            self.outcomes.append("waited")
        return await super()._unlink(token, keys)


async def test_an_event_arriving_in_the_middle_of_a_clear_waits_until_every_key_is_gone(
    settings: HotCatalogSettings, redis: Redis
) -> None:
    ranking = ClearWithTraffic(redis, prefix=settings.key_prefix)
    ranking.outcomes = []
    await live(ranking, [liked(product, 1, 0) for product in range(1, 1201)])  # 1200 hashes, 1200 markers
    assert await ranking.clear() >= 2401
    assert ranking.outcomes == ["waited"] * len(ranking.outcomes)
    assert len(ranking.outcomes) >= 4  # the clear took several batches
    assert [key async for key in redis.scan_iter(match=f"{settings.key_prefix}::*")] == []
    await live(ranking, [liked(7, 1, 0)])  # the fence is gone with the clear
    assert (await snapshot(redis, ranking))[0] == [(7, 2)]


def test_the_cli_rebuilds_from_the_schemas_and_redis_its_environment_names(
    rb_infra: InfraSettings, schemas: SchemaNames, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from kiwishop.cli import main

    async def prepare() -> Snapshot:
        world = World(rb_infra, schemas)
        try:
            await world.truncate()
            await world.shop()
        finally:
            await world.close()
        redis = create_redis(rb_infra.redis_url)
        try:
            ranking = Ranking(redis, prefix=prefix)
            await live(ranking, world.events)
            expected = await snapshot(redis, ranking)
            await redis.flushdb()
            return expected
        finally:
            await redis.aclose()

    async def after() -> Snapshot:
        redis = create_redis(rb_infra.redis_url)
        try:
            return await snapshot(redis, Ranking(redis, prefix=prefix))
        finally:
            await redis.aclose()

    prefix = unique("hot-rb-cli")
    expected = asyncio.run(prepare())
    for name, value in {
        "KIWI_DB_HOST": rb_infra.db_host,
        "KIWI_DB_PORT": str(rb_infra.db_port),
        "KIWI_DB_USER": rb_infra.db_user,
        "KIWI_DB_PASSWORD": rb_infra.db_password.get_secret_value(),
        "KIWI_REDIS_URL": rb_infra.redis_url,
        "KIWI_HOT_CATALOG_KEY_PREFIX": prefix,
        "KIWI_CATALOG_LIKE_DB_NAME": schemas.like_db,
        "KIWI_CATALOG_REVIEW_DB_NAME": schemas.review_db,
        "KIWI_ORDER_DB_NAME": schemas.order_db,
    }.items():
        monkeypatch.setenv(name, value)
    assert main(["rebuild-hot-catalog"]) == 0
    assert "replayed 4 paid orders" in capsys.readouterr().out
    assert asyncio.run(after()) == expected
