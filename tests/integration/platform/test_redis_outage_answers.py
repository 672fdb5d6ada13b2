"""The Redis-backed routes during a Redis outage: 503 ``{code, message}`` with ``Retry-After``, never 500, and
answers again once Redis is back. The Redis is this module's own (stopping the session's would disturb
every other test); hot-catalog's catalog and order-query's order are down throughout (a peer that is down
is an outage too)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from kiwishop.hot_catalog.app import create_app as create_hot_catalog
from kiwishop.hot_catalog.settings import HotCatalogSettings
from kiwishop.order_query.app import create_app as create_order_query
from kiwishop.order_query.settings import OrderQuerySettings
from kiwishop.platform.settings import InfraSettings
from kiwishop_dev.devstack.infra import RedisServer
from kiwishop_dev.devstack.procs import free_port
from tests.support import as_member, dead_url, eventually, served_app, unique

pytestmark = pytest.mark.slow

HOT = "/api/hot-products"
HISTORY = "/api/orders/members/7?limit=10"
DETAIL = "/api/orders/payment-events/1/members/7"


@pytest.fixture(scope="module")
def private_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    root: Path = tmp_path_factory.mktemp("outage-redis")
    server = RedisServer(root / "redis", free_port(), root / "logs")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@dataclass(frozen=True)
class Apps:
    hot: httpx.AsyncClient
    history: httpx.AsyncClient


@pytest.fixture(scope="module")
async def apps(infra: InfraSettings, private_redis: RedisServer) -> AsyncIterator[Apps]:
    redis_infra = infra.model_copy(update={"redis_url": f"redis://127.0.0.1:{private_redis.port}/0"})
    tag = unique("redis-outage")
    hot = HotCatalogSettings(
        infra=redis_infra, catalog_url=dead_url(), key_prefix=tag, consumer_group=f"{tag}-hot",
        like_topic=f"{tag}-like", review_topic=f"{tag}-review", payment_topic=f"{tag}-payment",
        hot_list_cache_ttl_s=0, consumer_retry_backoff_s=(0.05, 0.1, 0.2),
    )  # fmt: skip
    history = OrderQuerySettings(
        infra=redis_infra, node_id=171, key_prefix=tag, consumer_group=f"{tag}-oq", payment_topic=f"{tag}-payment",
        order_url=dead_url(), consumer_retry_backoff_s=(0.05, 0.1, 0.2), freeze_gc_after_startup=False,
    )  # fmt: skip
    async with (
        served_app(create_hot_catalog(hot)) as hot_url,
        served_app(create_order_query(history)) as history_url,
        httpx.AsyncClient(base_url=hot_url, timeout=30) as hot_client,
        httpx.AsyncClient(base_url=history_url, timeout=30, headers=as_member(7)) as history_client,
    ):
        yield Apps(hot_client, history_client)


def assert_unavailable(response: httpx.Response, code: str) -> None:
    assert response.status_code == 503, response.text
    assert int(response.headers["retry-after"]) >= 1, response.headers
    assert response.json()["code"] == code, response.text
    assert set(response.json()) == {"code", "message"}


async def test_redis_backed_routes_answer_503_with_retry_after_while_redis_is_down(
    apps: Apps, private_redis: RedisServer
) -> None:
    assert (await apps.hot.get(HOT)).status_code == 200
    assert_unavailable(await apps.history.get(HISTORY), "OQ0001")  # Redis lacks it and order is down
    private_redis.stop()
    try:
        for _ in range(3):
            assert_unavailable(await apps.hot.get(HOT), "HOT0002")
            assert_unavailable(await apps.history.get(HISTORY), "SERVICE_UNAVAILABLE")
            assert_unavailable(await apps.history.get(DETAIL), "SERVICE_UNAVAILABLE")
    finally:
        private_redis.start()
    back = await eventually(lambda: apps.hot.get(HOT), lambda r: r.status_code == 200, timeout_s=20)
    assert back.json() == {"productList": []}
    assert_unavailable(await apps.history.get(HISTORY), "OQ0001")
