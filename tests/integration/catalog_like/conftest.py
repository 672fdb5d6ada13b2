from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from kiwishop.catalog_like.app import SERVICE, create_app
from kiwishop.catalog_like.settings import CatalogLikeSettings
from kiwishop.platform.db import Database
from kiwishop.platform.migrations import migrate
from kiwishop.platform.settings import InfraSettings
from tests.integration.catalog_like.servers import catalog_server, register_product
from tests.support import running_app


@pytest.fixture(scope="session")
async def catalog_url(infra: InfraSettings) -> AsyncIterator[str]:
    async with catalog_server(infra) as url:
        yield url


@pytest.fixture(scope="session")
async def like_settings(infra: InfraSettings, catalog_url: str) -> CatalogLikeSettings:
    settings = CatalogLikeSettings(
        infra=infra,
        db_name="it_catalog_like",
        node_id=116,
        catalog_url=catalog_url,
        outbox_poll_interval_s=0.2,
        consumer_retry_backoff_s=(0.05, 0.1, 0.2),
    )
    await migrate(infra, settings.db_name, SERVICE.migrations)
    return settings


@pytest.fixture
async def likes(like_settings: CatalogLikeSettings) -> AsyncIterator[httpx.AsyncClient]:
    async with running_app(create_app(like_settings)) as client:
        yield client


@pytest.fixture
async def like_db(like_settings: CatalogLikeSettings) -> AsyncIterator[Database]:
    db = Database.connect(like_settings.infra, like_settings.db_name)
    yield db
    await db.close()


@pytest.fixture
async def product(catalog_url: str) -> int:
    return await register_product(catalog_url)
