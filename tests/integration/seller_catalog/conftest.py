"""seller, wallet, catalog and order together: seller and wallet in-process on the real seller and wallet
topics (as in tests/integration/seller_wallet), catalog served over real HTTP reading the real seller topic
with a consumer group of its own, order in-process calling that catalog."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from kiwishop.catalog.app import SERVICE as CATALOG
from kiwishop.catalog.app import create_app as create_catalog
from kiwishop.catalog.settings import CatalogSettings
from kiwishop.order.app import create_app as create_order
from kiwishop.order.migrations import MIGRATIONS as ORDER_MIGRATIONS
from kiwishop.order.settings import OrderSettings
from kiwishop.platform.migrations import migrate
from kiwishop.platform.settings import InfraSettings
from tests.integration.seller_wallet.fixtures import publisher, seller_db, seller_schema, wallet_db, wallet_schema
from tests.integration.seller_wallet.support import FAST_RETRIES
from tests.support import running_app, served_app, unique

__all__ = ["publisher", "seller_db", "seller_schema", "wallet_db", "wallet_schema"]

CATALOG_DB = "it_seller_catalog"
ORDER_DB = "it_seller_catalog_order"


@pytest.fixture(scope="module")
async def catalog_url(infra: InfraSettings) -> AsyncIterator[str]:
    settings = CatalogSettings(
        infra=infra,
        db_name=CATALOG_DB,
        node_id=112,
        seller_group_id=unique("sc-catalog-seller"),
        consumer_retry_backoff_s=FAST_RETRIES,
    )
    await migrate(infra, CATALOG_DB, CATALOG.migrations, CATALOG.seed)
    async with served_app(create_catalog(settings)) as url:
        yield url


@pytest.fixture
async def catalog(catalog_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=catalog_url, timeout=10) as client:
        yield client


@pytest.fixture
async def order(infra: InfraSettings, catalog_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """Order for checkouts only: no PSP, no hot-catalog, topics of its own."""
    await migrate(infra, ORDER_DB, ORDER_MIGRATIONS)
    tag = unique("sc-order")
    settings = OrderSettings(
        infra=infra,
        db_name=ORDER_DB,
        node_id=121,
        catalog_url=catalog_url,
        toss_api_url="http://127.0.0.1:9",
        hot_catalog_url="http://127.0.0.1:9",
        payment_topic=f"{tag}-payment",
        wallet_topic=f"{tag}-wallet",
        wallet_group_id=f"{tag}-wallet-group",
        consumer_retry_backoff_s=FAST_RETRIES,
    )
    async with running_app(create_order(settings)) as client:
        yield client
