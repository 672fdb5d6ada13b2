"""order-query against real servers: the real order app (with a real catalog and the Toss emulator, all
over HTTP) produces PAYMENT_CONFIRM through its outbox; order-query consumes it and falls back to order.

order-query's Redis is a database of its own (``/9``) so a test can flush it like ``FLUSHALL`` would
without touching other services' keys; each test also uses its own key prefix and consumer group.
"""

from __future__ import annotations

import collections
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import pytest
from fastapi import FastAPI, Request, Response
from redis.asyncio import Redis
from starlette.middleware.base import RequestResponseEndpoint

from kiwishop.catalog.app import SERVICE as CATALOG
from kiwishop.catalog.app import create_app as create_catalog
from kiwishop.catalog.settings import CatalogSettings
from kiwishop.order.app import create_app as create_order
from kiwishop.order.migrations import MIGRATIONS as ORDER_MIGRATIONS
from kiwishop.order.settings import OrderSettings
from kiwishop.order_query.settings import OrderQuerySettings
from kiwishop.platform.migrations import migrate
from kiwishop.platform.redisclient import create_redis
from kiwishop.platform.settings import InfraSettings
from kiwishop.toss_emulator.app import create_app as create_emulator
from kiwishop.toss_emulator.settings import TossEmulatorSettings
from tests.integration.order_query.shop import FROM_TEST, Shop
from tests.support import served_app, unique

ORDER_DB = "it_oq_order"
CATALOG_DB = "it_oq_catalog"
REDIS_DB = 9


@pytest.fixture(scope="session")
def oq_infra(infra: InfraSettings) -> InfraSettings:
    base = infra.redis_url.rsplit("/", 1)[0]
    return infra.model_copy(update={"redis_url": f"{base}/{REDIS_DB}"})


@pytest.fixture
async def redis(oq_infra: InfraSettings) -> AsyncIterator[Redis]:
    client = create_redis(oq_infra.redis_url)
    yield client
    await client.aclose()


@pytest.fixture
def oq_settings(oq_infra: InfraSettings) -> Callable[..., OrderQuerySettings]:
    """order-query settings with a fresh key prefix and consumer group per call (unless given)."""

    def make(**overrides: object) -> OrderQuerySettings:
        values: dict[str, object] = {
            "infra": oq_infra,
            "node_id": 170,
            "key_prefix": unique("oq"),
            "consumer_group": unique("order-query"),
            "order_url": "http://127.0.0.1:9",
            "order_read_timeout_s": 5.0,
            "consumer_retry_backoff_s": (0.05, 0.1, 0.2),
            "freeze_gc_after_startup": False,
        }
        values.update(overrides)
        return OrderQuerySettings(**values)  # type: ignore[arg-type]

    return make


@dataclass
class OrderServer:
    """order served over real HTTP, counting the O6/O7 calls that did not come from the test itself."""

    url: str
    emulator_url: str
    calls: collections.Counter[str] = field(default_factory=collections.Counter)

    def count(self, kind: str) -> int:
        return self.calls[kind]


def count_calls(app: FastAPI, calls: collections.Counter[str]) -> None:
    @app.middleware("http")
    async def counter(request: Request, call_next: RequestResponseEndpoint) -> Response:
        path = request.url.path
        if FROM_TEST not in request.headers:
            if path.startswith("/api/orders/members/"):
                calls["O6"] += 1
            elif path.startswith("/api/orders/payment-events/"):
                calls["O7"] += 1
        return await call_next(request)


@pytest.fixture(scope="module")
async def order_server(infra: InfraSettings) -> AsyncIterator[OrderServer]:
    await migrate(infra, CATALOG_DB, CATALOG.migrations, CATALOG.seed)
    await migrate(infra, ORDER_DB, ORDER_MIGRATIONS)
    async with (
        served_app(create_catalog(CatalogSettings(infra=infra, db_name=CATALOG_DB, node_id=171))) as catalog_url,
        served_app(create_emulator(TossEmulatorSettings(node_id=173))) as emulator_url,
    ):
        settings = OrderSettings(
            infra=infra,
            db_name=ORDER_DB,
            node_id=172,
            catalog_url=catalog_url,
            toss_api_url=emulator_url,
            psp_read_timeout_s=5.0,
            psp_retry_base_s=0.05,
            outbox_poll_interval_s=0.2,
            consumer_retry_backoff_s=(0.05, 0.1, 0.2),
        )
        app = create_order(settings)
        calls: collections.Counter[str] = collections.Counter()
        count_calls(app, calls)
        async with served_app(app) as order_url:
            yield OrderServer(order_url, emulator_url, calls)


@pytest.fixture(scope="module")
async def shop(order_server: OrderServer) -> AsyncIterator[Shop]:
    """A buyer: checkout at order, authorise at the emulator, confirm at order."""
    async with Shop.open(order_server.url, order_server.emulator_url) as opened:
        yield opened
