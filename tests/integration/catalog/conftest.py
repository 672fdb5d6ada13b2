from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from kiwishop.catalog.app import SERVICE, create_app
from kiwishop.catalog.settings import CatalogSettings
from kiwishop.platform.db import Database
from kiwishop.platform.migrations import migrate
from kiwishop.platform.settings import InfraSettings
from tests.support import running_app


@pytest.fixture(scope="session")
async def catalog_settings(infra: InfraSettings) -> CatalogSettings:
    settings = CatalogSettings(infra=infra, db_name="it_catalog", node_id=101)
    await migrate(infra, settings.db_name, SERVICE.migrations, SERVICE.seed)
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
