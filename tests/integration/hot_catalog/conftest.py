from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from redis.asyncio import Redis

from kiwishop.catalog_like.migrations import MIGRATIONS as LIKE_MIGRATIONS
from kiwishop.catalog_review.migrations import MIGRATIONS as REVIEW_MIGRATIONS
from kiwishop.hot_catalog.settings import HotCatalogSettings
from kiwishop.ops.hot_catalog_sources import SchemaNames
from kiwishop.order.migrations import MIGRATIONS as ORDER_MIGRATIONS
from kiwishop.platform.kafka import KafkaPublisher
from kiwishop.platform.migrations import migrate
from kiwishop.platform.redisclient import create_redis
from kiwishop.platform.settings import InfraSettings
from tests.integration.catalog_like.servers import catalog_server
from tests.integration.hot_catalog.sources import World, allow_canceled_lines
from tests.support import unique

SettingsFactory = Callable[..., HotCatalogSettings]
REBUILD_REDIS_DB = 10


@pytest.fixture(scope="session")
async def hot_catalog_url(infra: InfraSettings) -> AsyncIterator[str]:
    async with catalog_server(infra) as url:
        yield url


@pytest.fixture
def hot_settings(infra: InfraSettings, hot_catalog_url: str) -> SettingsFactory:
    """Settings with this test's own key prefix, consumer group and topics (so tests never see each other)."""

    def make(**override: Any) -> HotCatalogSettings:
        tag = unique("hot")
        values: dict[str, Any] = {
            "infra": infra,
            "catalog_url": hot_catalog_url,
            "key_prefix": tag,
            "consumer_group": f"{tag}-group",
            "like_topic": f"{tag}-like",
            "review_topic": f"{tag}-review",
            "payment_topic": f"{tag}-payment",
            "hot_list_cache_ttl_s": 0,
            "consumer_retry_backoff_s": (0.05, 0.1, 0.2),
        }
        return HotCatalogSettings(**(values | override))

    return make


@pytest.fixture
async def redis(infra: InfraSettings) -> AsyncIterator[Redis]:
    client = create_redis(infra.redis_url)
    yield client
    await client.aclose()


@pytest.fixture
async def publisher(infra: InfraSettings) -> AsyncIterator[KafkaPublisher]:
    pub = KafkaPublisher(infra)
    yield pub
    await pub.close()


@pytest.fixture(scope="module")
def rb_infra(infra: InfraSettings) -> InfraSettings:
    """The rebuild tests' Redis: a database of its own (``/10``), so they may FLUSHDB it."""
    base = infra.redis_url.rsplit("/", 1)[0]
    return infra.model_copy(update={"redis_url": f"{base}/{REBUILD_REDIS_DB}"})


@pytest.fixture(scope="module")
async def schemas(infra: InfraSettings) -> SchemaNames:
    """The rebuild's three source schemas, created with the services' own migrations (order's with its
    CANCELED line status)."""
    tag = uuid.uuid4().hex[:8]
    names = SchemaNames(f"it_hotrb_{tag}_like", f"it_hotrb_{tag}_review", f"it_hotrb_{tag}_order")
    await migrate(infra, names.like_db, LIKE_MIGRATIONS)
    await migrate(infra, names.review_db, REVIEW_MIGRATIONS)
    await migrate(infra, names.order_db, ORDER_MIGRATIONS)
    await allow_canceled_lines(infra, names.order_db)
    return names


@pytest.fixture
async def world(infra: InfraSettings, schemas: SchemaNames) -> AsyncIterator[World]:
    created = World(infra, schemas)
    await created.truncate()
    yield created
    await created.close()
