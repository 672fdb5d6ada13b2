"""The fast path answers exactly what the route would, records the same metric, and steps aside for
everything it does not own."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from redis.asyncio import Redis

from kiwishop.order_query.app import create_app
from kiwishop.order_query.settings import OrderQuerySettings
from kiwishop.order_query.store import ReadModelStore, model_json
from tests.integration.order_query.test_store import model
from tests.support import as_member, running_app

MEMBER = 42


class RouteUsed(Exception):
    """Raised by the route in place of reading: an exception no handler of the app answers, so it reaches the test."""


async def route_is_bypassed(*_: object) -> bytes:
    raise RouteUsed("the route was used")


async def test_odd_spellings_get_the_same_answers_through_the_route_and_bad_ones_the_same_400s(
    oq_settings: Callable[..., OrderQuerySettings], redis: Redis
) -> None:
    settings = oq_settings()
    store = ReadModelStore.for_settings(redis, settings)
    numbers = list(range(120, 100, -1))
    epoch = await store.epoch()
    await store.fill(MEMBER, [(n, model_json(model(n))) for n in numbers], epoch=epoch, cursor=None, floor=0)
    app = create_app(settings)
    async with running_app(app) as oq:
        oq.headers.update(as_member(MEMBER))
        base = f"/api/orders/members/{MEMBER}"
        canonical = await oq.get(f"{base}?limit=5&paymentEventNo=118")
        assert canonical.status_code == 200
        assert canonical.headers["content-type"] == "application/json"
        assert [e["paymentEventNo"] for e in json.loads(canonical.content)["paymentEventList"]] == [
            117,
            116,
            115,
            114,
            113,
        ]
        for odd in ("limit=05&paymentEventNo=118", "paymentEventNo=0118&limit=5", "limit=5&paymentEventNo=118&"):
            assert (await oq.get(f"{base}?{odd}")).content == canonical.content, odd
        assert (await oq.get(f"/api/orders/members/0{MEMBER}?limit=5&paymentEventNo=118")).content == canonical.content
        for bad in ("limit=0", "limit=101", "limit=x", "paymentEventNo=-1"):
            response = await oq.get(f"{base}?{bad}")
            assert response.status_code == 400, bad
            assert response.json()["code"] == "INVALID_REQUEST"
        app.state.reads.history = route_is_bypassed  # from now on, only the fast path can answer
        assert (await oq.get(f"{base}?limit=5&paymentEventNo=118")).content == canonical.content
        with pytest.raises(RouteUsed, match="the route was used"):
            await oq.get(f"{base}?limit=05&paymentEventNo=118")
        metrics = (await oq.get("/metrics")).text
        assert 'route="/api/orders/members/{memberNo}",status="200"' in metrics
