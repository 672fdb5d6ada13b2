"""``kiwishop rebuild-hot-catalog`` with canceled lines in order's schema (``payment_order_status = 'CANCELED'``):
the rebuilt ranking equals what the consumer built from the same PAYMENT_CONFIRM and PAYMENT_CANCELED events —
after a FLUSHALL, with the cancels' events arriving after the rebuild, and while the consumer applies them during
it. (Fixtures: ``conftest.rb_infra``, ``schemas``, ``world``; helpers from ``test_rebuild``.)"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from kiwishop.hot_catalog.ranking import Ranking
from kiwishop.hot_catalog.settings import HotCatalogSettings
from kiwishop.ops.hot_catalog_sources import SchemaNames
from kiwishop.platform.envelope import Envelope
from kiwishop.platform.redisclient import create_redis
from kiwishop.platform.settings import InfraSettings
from tests.integration.hot_catalog.sources import World
from tests.integration.hot_catalog.test_rebuild import Snapshot, live, rebuilt, snapshot
from tests.support import unique


@pytest.fixture
async def redis(rb_infra: InfraSettings) -> AsyncIterator[Redis]:
    client = create_redis(rb_infra.redis_url)
    await client.flushdb()
    yield client
    await client.aclose()


@pytest.fixture
def settings(rb_infra: InfraSettings) -> HotCatalogSettings:
    return HotCatalogSettings(infra=rb_infra, key_prefix=unique("hot-rb-cancel"))


def line_nos(confirm: Envelope) -> list[int]:
    return [line["paymentOrderNo"] for line in confirm.payload["paymentOrderList"]]


async def paid_order(world: World, *products: int) -> Envelope:
    confirm = await world.order(*products)
    assert confirm is not None
    return confirm


async def by_product(redis: Redis, ranking: Ranking) -> Snapshot:
    """The snapshot with each product hash under its product number (rankings of two prefixes compare)."""
    listing, hashes = await snapshot(redis, ranking)
    return listing, {key.rsplit(b"::", 1)[1]: fields for key, fields in hashes.items()}


async def shop_with_cancels(world: World) -> list[Envelope]:
    """The shop of ``World.shop`` and three more orders: one canceled line by line, one canceled in one go,
    one partly; returns the cancels' events."""
    await world.shop()
    by_line, whole, partly = [await paid_order(world, *products) for products in ((7, 7, 8), (8, 9), (9, 7))]
    first, second, third = line_nos(by_line)
    return [
        await world.cancel(by_line, first),
        await world.cancel(by_line, second, third, earlier=(first,)),
        await world.cancel(whole, *line_nos(whole)),
        await world.cancel(partly, line_nos(partly)[1]),
    ]


async def test_after_a_flushall_the_rebuilt_ranking_takes_out_exactly_the_lines_the_events_took_out(
    world: World, schemas: SchemaNames, settings: HotCatalogSettings, redis: Redis
) -> None:
    cancels = await shop_with_cancels(world)
    ranking = Ranking.for_settings(redis, settings)
    delivered = world.events + random.sample(world.events, k=len(world.events) // 2)
    random.shuffle(delivered)  # cancels redelivered and ahead of their orders, as a broker may
    await live(ranking, delivered)
    expected = await snapshot(redis, ranking)
    assert dict(expected[0])[9] == 10  # two paid lines, one given back
    assert {7, 8} & set(dict(expected[0])) == set()  # every paid line given back: at 0, off the list
    await redis.flushdb()
    result = await rebuilt(settings, redis, schemas)
    assert await snapshot(redis, ranking) == expected  # same scores, same paid and canceled counts
    assert (result.paid_orders, result.canceled_lines) == (7, sum(len(c.payload["lines"]) for c in cancels))
    assert "6 canceled lines" in result.summary()


async def test_cancels_delivered_after_the_rebuild_take_nothing_out_twice(
    world: World, schemas: SchemaNames, settings: HotCatalogSettings, redis: Redis
) -> None:
    cancels = await shop_with_cancels(world)
    reference = Ranking(redis, prefix=unique("hot-rb-reference"))
    await live(reference, world.events)
    ranking = Ranking.for_settings(redis, settings)
    await rebuilt(settings, redis, schemas)
    await live(ranking, cancels + world.events)  # the consumer was behind: every event again, cancels first
    assert await by_product(redis, ranking) == await by_product(redis, reference)


async def test_cancels_the_consumer_applies_while_the_rebuild_runs_are_taken_out_exactly_once(
    world: World, schemas: SchemaNames, settings: HotCatalogSettings, redis: Redis
) -> None:
    await shop_with_cancels(world)
    reference = Ranking(redis, prefix=unique("hot-rb-reference"))
    await live(reference, world.events)
    ranking = Ranking.for_settings(redis, settings)
    half = len(world.events) // 2
    await live(ranking, world.events[half:])  # the cancels (last) applied before the rebuild
    rest = world.events[:half] + world.events[half:]  # the rest on its way, the applied half delivered again
    random.shuffle(rest)
    await asyncio.gather(rebuilt(settings, redis, schemas, batch_size=1), live(ranking, rest, wait_for_rebuild=True))
    assert await by_product(redis, ranking) == await by_product(redis, reference)
