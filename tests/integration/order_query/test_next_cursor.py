"""order-query's history pages carry order's nextCursor, byte for byte, whether Redis answers the page (the Lua
PAGE script) or order does (O6 through the cache); limit follows the shop's one paging rule."""

from __future__ import annotations

import json
import random
from collections.abc import Callable

import httpx
import pytest
from redis.asyncio import Redis

from kiwishop.order_query.app import create_app
from kiwishop.order_query.settings import OrderQuerySettings
from kiwishop.order_query.store import ReadModelStore, model_json
from tests.integration.order_query.conftest import OrderServer
from tests.integration.order_query.shop import Shop
from tests.integration.order_query.test_store import MEMBER, fill_from_top, model
from tests.support import as_member, running_app, unique


def page_of(body: bytes | None) -> tuple[list[int], str | None] | None:
    if body is None:
        return None
    parsed = json.loads(body)
    assert list(parsed) == ["paymentEventList", "nextCursor"]
    return [e["paymentEventNo"] for e in parsed["paymentEventList"]], parsed["nextCursor"]


@pytest.fixture
def store(redis: Redis) -> ReadModelStore:
    return ReadModelStore(redis, unique("oq-cursor"), index_size=1000, model_ttl_s=3600, applied_ttl_s=3600)


async def test_a_whole_history_in_redis_answers_next_cursor_until_its_last_page(store: ReadModelStore) -> None:
    await fill_from_top(store, [50, 40, 30, 20, 10], floor=0)
    assert page_of(await store.page(MEMBER, None, 2)) == ([50, 40], "40")
    assert page_of(await store.page(MEMBER, 40, 2)) == ([30, 20], "20")
    assert page_of(await store.page(MEMBER, 20, 2)) == ([10], None)
    assert page_of(await store.page(MEMBER, None, 5)) == ([50, 40, 30, 20, 10], None)  # full, and the last
    assert page_of(await store.page(MEMBER, 10, 5)) == ([], None)
    assert await store.page(MEMBER, 10, 5) == b'{"paymentEventList":[],"nextCursor":null}'


async def test_above_a_floor_a_next_page_needs_an_event_after_the_page(store: ReadModelStore) -> None:
    await fill_from_top(store, [50, 40, 30], floor=30)
    assert page_of(await store.page(MEMBER, None, 2)) == ([50, 40], "40")  # 30 follows: there is a next page
    assert await store.page(MEMBER, None, 3) is None  # down to the floor: only order knows what lies below
    epoch = await store.epoch()
    await store.fill(MEMBER, [(5, model_json(model(5)))], epoch=epoch)  # known, though below the floor
    assert page_of(await store.page(MEMBER, None, 3)) == ([50, 40, 30], "30")  # 5 proves a next page


async def walk(client: httpx.AsyncClient, member: int, limit: int) -> list[bytes]:
    """Every page's body, following nextCursor."""
    bodies: list[bytes] = []
    cursor: str | None = None
    while True:
        params = {"limit": str(limit), **({"paymentEventNo": cursor} if cursor else {})}
        response = await client.get(f"/api/orders/members/{member}", params=params, headers=as_member(member))
        assert response.status_code == 200, response.text
        bodies.append(response.content)
        cursor = json.loads(response.content)["nextCursor"]
        if cursor is None:
            return bodies
        assert len(bodies) < 100, "the history did not end"


@pytest.mark.parametrize("fill_page_size", [100, 4])
async def test_pages_equal_orders_with_their_next_cursor_from_order_and_from_redis(
    shop: Shop,
    order_server: OrderServer,
    oq_settings: Callable[..., OrderQuerySettings],
    fill_page_size: int,
) -> None:
    member = random.randint(10**9, 10**12)
    paid = await shop.pay_many(member, 9)
    settings = oq_settings(order_url=order_server.url, fill_page_size=fill_page_size, cache_logical_ttl_s=60.0)
    async with running_app(create_app(settings)) as oq:
        for limit in (4, 3, 9, 10):
            theirs = await walk(shop.order, member, limit)
            assert await walk(oq, member, limit) == theirs  # through order (O6 and the cache) or Redis
            assert await walk(oq, member, limit) == theirs  # again, now from Redis where it can
            shown = [e["paymentEventNo"] for body in theirs for e in json.loads(body)["paymentEventList"]]
            assert shown == paid
            assert len(theirs) == -(-len(paid) // limit)


@pytest.mark.parametrize("limit", ["101", "0", "-1", "abc"])
async def test_a_limit_outside_1_to_100_is_a_400(
    oq_settings: Callable[..., OrderQuerySettings], order_server: OrderServer, limit: str
) -> None:
    async with running_app(create_app(oq_settings(order_url=order_server.url))) as oq:
        response = await oq.get(f"/api/orders/members/7?limit={limit}", headers=as_member(7))
    assert response.status_code == 400
    assert response.json()["details"][0]["field"] == "query.limit"
