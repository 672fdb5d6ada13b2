from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from kiwishop.catalog_review.app import SERVICE, create_app
from kiwishop.catalog_review.settings import CatalogReviewSettings
from kiwishop.platform.db import Database
from kiwishop.platform.migrations import migrate
from kiwishop.platform.settings import InfraSettings
from tests.integration.catalog_like.servers import catalog_server, register_product
from tests.support import running_app


@pytest.fixture(scope="session")
async def review_catalog_url(infra: InfraSettings) -> AsyncIterator[str]:
    async with catalog_server(infra) as url:
        yield url


@pytest.fixture(scope="session")
async def review_settings(infra: InfraSettings, review_catalog_url: str) -> CatalogReviewSettings:
    settings = CatalogReviewSettings(
        infra=infra,
        db_name="it_catalog_review",
        node_id=115,
        catalog_url=review_catalog_url,
        outbox_poll_interval_s=0.2,
        consumer_retry_backoff_s=(0.05, 0.1, 0.2),
    )
    await migrate(infra, settings.db_name, SERVICE.migrations)
    return settings


@pytest.fixture
async def reviews(review_settings: CatalogReviewSettings) -> AsyncIterator[httpx.AsyncClient]:
    async with running_app(create_app(review_settings)) as client:
        yield client


@pytest.fixture
async def review_db(review_settings: CatalogReviewSettings) -> AsyncIterator[Database]:
    db = Database.connect(review_settings.infra, review_settings.db_name)
    yield db
    await db.close()


@pytest.fixture
async def product(review_catalog_url: str) -> int:
    return await register_product(review_catalog_url)
