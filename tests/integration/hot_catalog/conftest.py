from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from redis.asyncio import Redis

from kiwishop.hot_catalog.settings import HotCatalogSettings
from kiwishop.platform.kafka import KafkaPublisher
from kiwishop.platform.redisclient import create_redis
from kiwishop.platform.settings import InfraSettings
from tests.integration.catalog_like.servers import catalog_server
from tests.support import unique

SettingsFactory = Callable[..., HotCatalogSettings]


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
