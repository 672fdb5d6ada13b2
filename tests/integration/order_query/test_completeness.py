"""A member's history is answered from Redis alone only while order's last proof of it is recent
(``completeness_ttl_s``): after that one O6 call proves it again, which also shows any paid order whose
PAYMENT_CONFIRM never reached order-query."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from redis.asyncio import Redis

from kiwishop.order_query.app import create_app
from kiwishop.order_query.settings import OrderQuerySettings
from kiwishop.order_query.store import ReadModelStore
from tests.integration.order_query.conftest import OrderServer
from tests.integration.order_query.shop import Shop, exact
from tests.support import as_member, eventually, running_app, unique


def new_member() -> int:
    return random.randint(10**9, 10**12)


def numbers(body: Any) -> list[int]:
    return [event["paymentEventNo"] for event in body["paymentEventList"]]


async def claim_expired(store: ReadModelStore, member: int) -> None:
    await eventually(lambda: store.index_state(member), lambda s: s.claim_ms == 0, timeout_s=30, interval_s=0.1)


async def test_pages_come_from_redis_while_the_claim_is_fresh_and_cost_one_o6_call_once_it_expired(
    shop: Shop, order_server: OrderServer, oq_settings: Callable[..., OrderQuerySettings], redis: Redis
) -> None:
    member = new_member()
    settings = oq_settings(order_url=order_server.url, completeness_ttl_s=3.0, cache_logical_ttl_s=0.05)
    store = ReadModelStore.for_settings(redis, settings)
    paid = [await shop.pay(member) for _ in range(3)][::-1]
    async with running_app(create_app(settings)) as oq:
        oq.headers.update(as_member(member))
        await eventually(lambda: store.index_state(member), lambda s: s.numbers == paid, timeout_s=60)
        before = order_server.count("O6")
        assert numbers(exact(await oq.get(f"/api/orders/members/{member}"))) == paid
        assert order_server.count("O6") - before == 1  # consumed events alone prove nothing: order is asked
        for _ in range(3):
            assert numbers(exact(await oq.get(f"/api/orders/members/{member}"))) == paid
        assert order_server.count("O6") - before == 1  # the claim is fresh: Redis alone answered
        await claim_expired(store, member)
        expected = await shop.order.get(f"/api/orders/members/{member}", headers=as_member(member))
        page = await oq.get(f"/api/orders/members/{member}")
        assert page.content == expected.content
        assert order_server.count("O6") - before == 2  # exactly one call proved the history again
        assert (await store.index_state(member)).claim_ms > 0
        assert (await oq.get(f"/api/orders/members/{member}")).content == expected.content
        assert order_server.count("O6") - before == 2


async def test_a_paid_order_whose_payment_confirm_never_arrived_shows_up_once_the_claim_expires(
    shop: Shop, order_server: OrderServer, oq_settings: Callable[..., OrderQuerySettings], redis: Redis
) -> None:
    member = new_member()
    # order-query listens on a topic nobody publishes to: every PAYMENT_CONFIRM is lost on the way
    settings = oq_settings(
        order_url=order_server.url,
        payment_topic=unique("it-lost-payments"),
        completeness_ttl_s=5.0,
        cache_logical_ttl_s=0.05,
    )
    store = ReadModelStore.for_settings(redis, settings)
    async with running_app(create_app(settings)) as oq:
        oq.headers.update(as_member(member))
        first = await shop.pay(member)
        assert numbers(exact(await oq.get(f"/api/orders/members/{member}"))) == [first]  # proven by order
        lost = await shop.pay(member)
        assert numbers(exact(await oq.get(f"/api/orders/members/{member}"))) == [first]  # the claim hides it
        assert (await store.index_state(member)).numbers == [first]
        healed = await eventually(
            lambda: oq.get(f"/api/orders/members/{member}"),
            lambda r: numbers(exact(r)) == [lost, first],
            timeout_s=30,
            interval_s=0.2,
        )
        assert (
            healed.content == (await shop.order.get(f"/api/orders/members/{member}", headers=as_member(member))).content
        )
        assert (await store.index_state(member)).numbers == [lost, first]
        detail = await oq.get(f"/api/orders/payment-events/{lost}/members/{member}")
        assert exact(detail)["paymentDone"] is True
