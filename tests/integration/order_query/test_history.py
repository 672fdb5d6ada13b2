"""Q1/Q2 end to end: order pays (checkout → Toss emulator → confirm), its outbox publishes PAYMENT_CONFIRM,
order-query consumes it; pages and details equal order's O6/O7, with or without Redis, with order down."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest
from redis.asyncio import Redis

from kiwishop.order_query.app import create_app
from kiwishop.order_query.rebuild import rebuild
from kiwishop.order_query.settings import OrderQuerySettings
from kiwishop.order_query.store import ReadModelStore
from tests.integration.order_query.conftest import OrderServer
from tests.integration.order_query.shop import Shop, exact, walk
from tests.support import as_member, eventually, running_app

HISTORY = 250


def new_member() -> int:
    return random.randint(10**9, 10**12)


def numbers(pages: list[list[Any]]) -> list[int]:
    return [event["paymentEventNo"] for page in pages for event in page]


@pytest.fixture(scope="module")
async def long_history(shop: Shop) -> tuple[int, list[int]]:
    """A member with 250 paid orders (newest first)."""
    member = new_member()
    return member, await shop.pay_many(member, HISTORY)


async def consumed(settings: OrderQuerySettings, redis: Redis, member: int, expected: list[int]) -> None:
    store = ReadModelStore.for_settings(redis, settings)
    await eventually(lambda: store.index_state(member), lambda s: set(expected) <= set(s.numbers), timeout_s=60)


async def test_a_confirmed_payment_is_in_the_history_and_detail_exactly_as_order_shows_it(
    shop: Shop, order_server: OrderServer, oq_settings: Callable[..., OrderQuerySettings], redis: Redis
) -> None:
    member = new_member()
    settings = oq_settings(order_url=order_server.url)
    async with running_app(create_app(settings)) as oq:
        number = await shop.pay(member)
        await consumed(settings, redis, member, [number])
        mine = as_member(member)
        detail = await oq.get(f"/api/orders/payment-events/{number}/members/{member}", headers=mine)
        expected = await shop.order.get(f"/api/orders/payment-events/{number}/members/{member}", headers=mine)
        assert detail.status_code == 200
        assert detail.content == expected.content
        assert exact(detail)["paymentDone"] is True
        assert b'"amount":1000.00' in detail.content
        assert exact(detail)["approvedDateTime"].endswith("+09:00")
        assert order_server.count("O7") == 0
        listed = await oq.get(f"/api/orders/members/{member}?limit=10", headers=mine)
        assert listed.content == (await shop.order.get(f"/api/orders/members/{member}?limit=10", headers=mine)).content


async def test_a_new_payment_reaches_a_warm_first_page_through_the_consumer_not_through_order(
    shop: Shop, order_server: OrderServer, oq_settings: Callable[..., OrderQuerySettings], redis: Redis
) -> None:
    member = new_member()
    settings = oq_settings(order_url=order_server.url)
    async with running_app(create_app(settings)) as oq:
        first = await shop.pay(member)
        await consumed(settings, redis, member, [first])
        oq.headers.update(as_member(member))
        assert numbers([exact(await oq.get(f"/api/orders/members/{member}"))["paymentEventList"]]) == [first]
        calls = order_server.count("O6")
        second = await shop.pay(member)
        page = await eventually(
            lambda: oq.get(f"/api/orders/members/{member}"),
            lambda r: len(exact(r)["paymentEventList"]) == 2,
            timeout_s=20,
        )
        assert numbers([exact(page)["paymentEventList"]]) == [second, first]
        assert order_server.count("O6") == calls


async def test_walking_250_orders_with_the_cursor_equals_orders_o6_with_three_origin_calls_and_no_detail_calls(
    shop: Shop,
    order_server: OrderServer,
    oq_settings: Callable[..., OrderQuerySettings],
    redis: Redis,
    long_history: tuple[int, list[int]],
) -> None:
    member, paid = long_history
    settings = oq_settings(order_url=order_server.url)
    async with running_app(create_app(settings)) as oq:
        await consumed(settings, redis, member, paid)
        before = order_server.calls.copy()
        ours, theirs = await walk(oq, member, limit=10), await walk(shop.order, member, limit=10)
        assert ours == theirs
        assert len(ours) == HISTORY // 10 + 1
        assert numbers(ours) == paid  # every order once, newest first
        # One O6 call of 100 events per 100 events (G29): the rest came from Redis, nothing per event.
        assert order_server.count("O6") - before["O6"] == 3
        assert order_server.count("O7") == before["O7"]
        assert await walk(oq, member, limit=10) == theirs
        assert await walk(oq, member, limit=100) == await walk(shop.order, member, limit=100)
        assert order_server.count("O6") - before["O6"] == 3


async def test_with_a_small_index_the_older_pages_come_from_order_and_still_match(
    shop: Shop,
    order_server: OrderServer,
    oq_settings: Callable[..., OrderQuerySettings],
    redis: Redis,
    long_history: tuple[int, list[int]],
) -> None:
    member, paid = long_history
    settings = oq_settings(order_url=order_server.url, member_index_size=30)
    async with running_app(create_app(settings)) as oq:
        store = ReadModelStore.for_settings(redis, settings)
        await eventually(lambda: store.index_state(member), lambda s: s.numbers == paid[:30], timeout_s=60)
        before = order_server.calls.copy()
        assert await walk(oq, member, limit=10) == await walk(shop.order, member, limit=10)
        assert order_server.count("O7") == before["O7"]
        assert (await store.index_state(member)).numbers == paid[:30]


async def test_after_a_flush_answers_stay_correct_through_order_then_come_from_redis_even_with_order_down(
    shop: Shop,
    order_server: OrderServer,
    oq_settings: Callable[..., OrderQuerySettings],
    redis: Redis,
    long_history: tuple[int, list[int]],
) -> None:
    member, paid = long_history
    settings = oq_settings(order_url=order_server.url)
    expected = await walk(shop.order, member, limit=10)
    async with running_app(create_app(settings)) as oq:
        await consumed(settings, redis, member, paid)
        assert await walk(oq, member, limit=10) == expected
        await redis.flushdb()  # FLUSHALL for order-query's own database
        before = order_server.count("O6")
        assert await walk(oq, member, limit=10) == expected
        assert order_server.count("O6") - before == 3  # refilled by the fallback
        assert await walk(oq, member, limit=10) == expected
        assert order_server.count("O6") - before == 3  # and now served from Redis again
    down = oq_settings(order_url="http://127.0.0.1:9", key_prefix=settings.key_prefix)
    async with running_app(create_app(down)) as oq:
        assert await walk(oq, member, limit=10) == expected
        detail = await oq.get(f"/api/orders/payment-events/{paid[0]}/members/{member}", headers=as_member(member))
        assert detail.status_code == 200
        stranger = new_member()
        miss = await oq.get(f"/api/orders/members/{stranger}", headers=as_member(stranger))
        assert miss.status_code == 503
        assert miss.json()["code"] == "OQ0001"
        assert set(miss.json()) == {"code", "message"}


async def test_an_unknown_member_has_an_empty_history_and_bad_paging_is_a_400(
    order_server: OrderServer, oq_settings: Callable[..., OrderQuerySettings]
) -> None:
    async with running_app(create_app(oq_settings(order_url=order_server.url))) as oq:
        member = new_member()
        response = await oq.get(f"/api/orders/members/{member}", headers=as_member(member))
        assert response.status_code == 200
        assert response.json() == {"paymentEventList": [], "nextCursor": None}
        for query in ("limit=0", "limit=101", "limit=x", "paymentEventNo=abc", "paymentEventNo=0"):
            bad = await oq.get(f"/api/orders/members/1?{query}", headers={"Accept-Language": "en", **as_member(1)})
            assert bad.status_code == 400, query
            assert bad.json()["code"] == "INVALID_REQUEST"
            assert bad.json()["message"] == "The request is invalid."
            assert bad.json()["details"]


async def test_a_detail_is_404_when_unknown_or_another_members_and_an_unpaid_one_matches_order(
    shop: Shop, order_server: OrderServer, oq_settings: Callable[..., OrderQuerySettings], redis: Redis
) -> None:
    member = new_member()
    settings = oq_settings(order_url=order_server.url)
    async with running_app(create_app(settings)) as oq:
        unpaid = await shop.checkout(member, (2,))
        number = unpaid["paymentEventNo"]
        for path, reader in (
            (f"/api/orders/payment-events/123/members/{member}", member),
            (f"/api/orders/payment-events/{number}/members/1", 1),
        ):
            missing = await oq.get(path, headers=as_member(reader))
            assert missing.status_code == 404
            assert missing.json()["code"] == "PEC0008"
        oq.headers.update(as_member(member))
        path = f"/api/orders/payment-events/{number}/members/{member}"
        assert (await oq.get(path)).content == (await shop.order.get(path, headers=as_member(member))).content
        detail = await oq.get(path)
        assert exact(detail)["paymentDone"] is False
        assert await ReadModelStore.for_settings(redis, settings).detail(member, number) is None  # never stored
        paid = await shop.pay(member)
        await consumed(settings, redis, member, [paid])
        await redis.delete(ReadModelStore.for_settings(redis, settings).keys.model(member, paid))
        before = order_server.count("O7")
        for _ in range(3):
            assert (await oq.get(f"/api/orders/payment-events/{paid}/members/{member}")).status_code == 200
        assert order_server.count("O7") - before == 1  # the miss refilled the model


async def snapshot(store: ReadModelStore, members: list[int]) -> dict[int, tuple[list[int], list[bytes | None]]]:
    """Per member: the indexed paymentEventNos (newest first) and their stored models."""
    result = {}
    for member in members:
        indexed = (await store.index_state(member)).numbers
        result[member] = (indexed, [await store.detail(member, number) for number in indexed])
    return result


async def test_the_rebuild_recreates_the_live_read_model_after_a_flush(
    shop: Shop,
    order_server: OrderServer,
    oq_settings: Callable[..., OrderQuerySettings],
    redis: Redis,
    long_history: tuple[int, list[int]],
) -> None:
    member, paid = long_history
    others = {m: [await shop.pay(m), await shop.pay(m, (2,))] for m in (new_member(), new_member())}
    members = [member, *others]
    settings = oq_settings(order_url=order_server.url)
    store = ReadModelStore.for_settings(redis, settings)
    async with running_app(create_app(settings)) as oq:
        for m, expected in [(member, paid), *others.items()]:
            await consumed(settings, redis, m, expected)
        pages = await walk(oq, member, limit=10)
        live = await snapshot(store, members)
    assert [len(live[m][0]) for m in members] == [HISTORY, 2, 2]
    assert all(model is not None for m in members for model in live[m][1])
    await redis.flushdb()
    assert await snapshot(store, members) == {m: ([], []) for m in members}
    result = await rebuild(settings)
    assert result.applied >= HISTORY + 4
    assert await snapshot(store, members) == live
    async with running_app(create_app(settings)) as oq:
        before = order_server.count("O6")
        assert await walk(oq, member, limit=10) == pages
        assert order_server.count("O6") - before == 3  # floors are proven by order again, nothing else
