"""Who may read order-query (8087), on the route and on the fast path alike: a member's history and orders are
that member's (without the PSP's paymentKey) or ops' (with it); a seller's sales are that seller's or ops'. A
miss asks order with the reader's own token, and a model stored from a member's view gets its key back from
the next write of the same event (``lua.keyed``)."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import httpx
from redis.asyncio import Redis

from kiwishop.order_query.app import create_app
from kiwishop.order_query.cache import OriginCache
from kiwishop.order_query.ports import Caller, PaidPage
from kiwishop.order_query.queries import OrderReads
from kiwishop.order_query.settings import OrderQuerySettings
from kiwishop.order_query.store import ReadModelStore, model_json
from tests.integration.order_query.conftest import OrderServer
from tests.integration.order_query.shop import Shop, exact
from tests.integration.order_query.test_store import model
from tests.support import as_member, as_ops, as_seller, running_app, unique

MEMBER = 42
NOT_A_TOKEN = {"Authorization": "Bearer not-a-token"}


def refused(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["code"]


def events_of(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    body = exact(response)
    return list(body.get("paymentEventList", [body]))


def keys_of(response: httpx.Response) -> list[Any]:
    return [e["paymentKey"] for e in events_of(response)]


async def test_members_history_and_orders_are_theirs_or_ops_on_the_fast_path_and_the_route(
    oq_settings: Callable[..., OrderQuerySettings], redis: Redis
) -> None:
    settings = oq_settings()  # order is down: Redis alone answers
    store = ReadModelStore.for_settings(redis, settings)
    await store.fill(MEMBER, [(n, model_json(model(n))) for n in (12, 11)], epoch=await store.epoch(), floor=0)
    app = create_app(settings)
    paths = [f"/api/orders/members/{MEMBER}", f"/api/orders/members/{MEMBER}?limit=05",  # fast path, route
             f"/api/orders/payment-events/12/members/{MEMBER}"]  # fmt: skip
    async with running_app(app) as oq:
        for path in paths:
            for headers in ({}, NOT_A_TOKEN, {"Authorization": "Basic eDp5"}):
                assert refused(await oq.get(path, headers=headers)) == (401, "AUTH0001"), (path, headers)
            for headers in (as_member(MEMBER + 1), as_seller(MEMBER)):
                assert refused(await oq.get(path, headers=headers)) == (403, "AUTH0002"), (path, headers)
            mine, ops = await oq.get(path, headers=as_member(MEMBER)), await oq.get(path, headers=as_ops())
            assert keys_of(ops) == ["key-12", "key-11"][: len(keys_of(ops))]
            assert events_of(mine) == [{**e, "paymentKey": None} for e in events_of(ops)]  # the field stays, null
        app.state.reads.history = None  # from now on only the fast path can answer a canonical page
        assert keys_of(await oq.get(paths[0], headers=as_member(MEMBER))) == [None, None]
        assert keys_of(await oq.get(paths[0], headers=as_ops())) == ["key-12", "key-11"]


async def test_a_sellers_sales_are_that_sellers_or_ops(oq_settings: Callable[..., OrderQuerySettings]) -> None:
    async with running_app(create_app(oq_settings())) as oq:
        path = "/api/orders/sellers/7"
        assert refused(await oq.get(path)) == (401, "AUTH0001")
        for headers in (as_seller(8), as_member(7)):
            assert refused(await oq.get(path, headers=headers)) == (403, "AUTH0002")
        for headers in (as_seller(7), as_ops()):
            answered = await oq.get(path, headers=headers)
            assert (answered.status_code, answered.json()) == (200, {"orderTotalAmountGroupingProductList": []})


class RecordingOrder:
    """order's O6/O7 as it answers whoever asks: the key for ops only; records the headers it was asked with."""

    def __init__(self, event: dict[str, Any], ops_header: str) -> None:
        self.event, self.ops_header = event, ops_header
        self.asked: list[str] = []

    def _view(self, authorization: str) -> dict[str, Any]:
        self.asked.append(authorization)
        return self.event if authorization == self.ops_header else {**self.event, "paymentKey": None}

    async def paid_page(self, member_no: int, cursor: int | None, limit: int, *, authorization: str) -> PaidPage:
        return PaidPage([self._view(authorization)] if cursor is None else [], None)

    async def detail(self, payment_event_no: int, member_no: int, *, authorization: str) -> dict[str, Any] | None:
        return self._view(authorization)


async def test_a_miss_asks_order_as_the_reader_and_a_keyless_model_gets_its_key_from_ops_read_or_the_event(
    redis: Redis,
) -> None:
    store = ReadModelStore(redis, unique("oq-access"), index_size=100, model_ttl_s=3600, applied_ttl_s=3600)
    cache = OriginCache(redis, store.keys, logical_ttl_s=60.0, physical_ttl_s=60.0, lock_ttl_s=5.0, wait_s=4.0)
    member, ops = Caller("Bearer member-42", sees_keys=False), Caller("Bearer ops", sees_keys=True)
    order = RecordingOrder(model(30), ops.authorization)
    reads = OrderReads(store, cache, order, fill_page_size=100)
    keyless, keyed = model_json({**model(30), "paymentKey": None}), model_json(model(30))

    assert b'"paymentKey":null' in await reads.history(MEMBER, None, 10, member)
    assert (order.asked, await store.detail(MEMBER, 30)) == (["Bearer member-42"], keyless)  # the member's view
    assert b'"paymentKey":"key-30"' in await reads.history(MEMBER, None, 10, ops)  # not the member's cached view
    assert order.asked[1:] == ["Bearer ops"]
    assert await store.detail(MEMBER, 30) == keyed  # the key filled in, nothing else changed
    assert await reads.detail(30, MEMBER, member) == keyless  # and still hidden from the member

    other = model(31)
    await store.fill(MEMBER, [(31, model_json({**other, "paymentKey": None}))])  # a member's refill came first
    assert await store.apply_event(901, {**other, "orderName": "from the event"})  # then its PAYMENT_CONFIRM
    assert await store.detail(MEMBER, 31) == model_json(other)  # the key, and the model it had otherwise
    await store.fill(MEMBER, [(31, model_json({**other, "paymentKey": None}))])  # a keyless refill again
    assert await store.detail(MEMBER, 31) == model_json(other)  # takes nothing away


async def test_a_cold_members_page_is_asked_of_order_with_the_members_token_and_matches_orders_view(
    shop: Shop, order_server: OrderServer, oq_settings: Callable[..., OrderQuerySettings], redis: Redis
) -> None:
    member = random.randint(10**9, 10**12)
    paid = await shop.pay(member)
    settings = oq_settings(order_url=order_server.url, payment_topic=unique("it-no-events"))  # never consumed
    async with running_app(create_app(settings)) as oq:
        before = order_server.count("O6")
        path = f"/api/orders/members/{member}"
        ours = await oq.get(path, headers=as_member(member))
        assert ours.content == (await shop.order.get(path, headers=as_member(member))).content
        assert order_server.count("O6") - before == 1  # order answered the member's own token
        assert keys_of(ours) == [None]
        ops = await oq.get(path, headers=as_ops())  # Redis holds it without its key: order is asked, as ops
        assert order_server.count("O6") - before == 2
        assert ops.content == (await shop.order.get(path, headers=as_ops())).content
        assert keys_of(ops) != [None]
        stored = await ReadModelStore.for_settings(redis, settings).detail(member, paid)
        assert stored is not None
        assert b'"paymentKey":null' not in stored  # ops' refill gave the model its key
