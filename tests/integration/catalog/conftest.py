from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from kiwishop.catalog.app import SERVICE, create_app
from kiwishop.catalog.settings import CatalogSettings
from kiwishop.platform.db import Database
from kiwishop.platform.kafka import KafkaPublisher
from kiwishop.platform.migrations import migrate
from kiwishop.platform.settings import InfraSettings
from tests.integration.catalog.sellers import active_sellers
from tests.support import running_app, unique


@pytest.fixture(scope="session")
async def catalog_settings(infra: InfraSettings) -> CatalogSettings:
    """Seller events come from a topic of this session's catalog tests only; sellers 7, 8 and 9 are ACTIVE."""
    tag = unique("ctg")
    settings = CatalogSettings(
        infra=infra,
        db_name="it_catalog",
        node_id=101,
        seller_topic=f"{tag}-seller",
        seller_group_id=f"{tag}-group",
        consumer_retry_backoff_s=(0.05, 0.1, 0.2),
    )
    await migrate(infra, settings.db_name, SERVICE.migrations, (*SERVICE.seed, active_sellers(7, 8, 9)))
    return settings


@pytest.fixture
async def catalog(catalog_settings: CatalogSettings) -> AsyncIterator[httpx.AsyncClient]:
    async with running_app(create_app(catalog_settings)) as client:
        yield client


@pytest.fixture
async def catalog_db(catalog_settings: CatalogSettings) -> AsyncIterator[Database]:
    db = Database.connect(catalog_settings.infra, catalog_settings.db_name)
    yield db
    await db.close()


@pytest.fixture
async def publisher(infra: InfraSettings) -> AsyncIterator[KafkaPublisher]:
    pub = KafkaPublisher(infra)
    yield pub
    await pub.close()
