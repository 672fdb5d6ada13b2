"""Browser tests: Playwright drives Debian's headless Chromium (Playwright cannot download its own browser
here) against the shop served over real HTTP — catalog, the Toss emulator and order on free ports."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from playwright.async_api import Browser, async_playwright

from kiwishop.catalog.app import SERVICE as CATALOG
from kiwishop.catalog.app import create_app as create_catalog
from kiwishop.catalog.settings import CatalogSettings
from kiwishop.catalog_like.app import SERVICE as LIKE
from kiwishop.catalog_like.app import create_app as create_like
from kiwishop.catalog_like.settings import CatalogLikeSettings
from kiwishop.catalog_review.app import SERVICE as REVIEW
from kiwishop.catalog_review.app import create_app as create_review
from kiwishop.catalog_review.settings import CatalogReviewSettings
from kiwishop.hot_catalog.app import create_app as create_hot
from kiwishop.hot_catalog.settings import HotCatalogSettings
from kiwishop.order.app import create_app as create_order
from kiwishop.order.migrations import MIGRATIONS as ORDER_MIGRATIONS
from kiwishop.order.settings import OrderSettings
from kiwishop.platform.migrations import migrate
from kiwishop.platform.settings import InfraSettings
from kiwishop.toss_emulator.app import create_app as create_emulator
from kiwishop.toss_emulator.settings import TossEmulatorSettings
from tests.support import served_app, unique

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(headless=True, executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


@dataclass(frozen=True)
class Shop:
    url: str  # order (the shop's pages)
    like_url: str
    review_url: str
    hot_url: str
    emulator_url: str  # the Toss emulator: its window, its /emulator test surface (faults, stats)


@pytest.fixture(scope="session")
async def shop_services(infra: InfraSettings) -> AsyncIterator[Shop]:
    """The shop over real HTTP: catalog, the Toss emulator, likes, reviews, hot-catalog and order.

    Likes and reviews go to topics of this fixture's own, so the ranking sees only what the browser tests do.
    """
    tag = unique("br").replace("-", "_")
    catalog_settings = CatalogSettings(
        infra=infra, db_name="br_catalog", node_id=140, seller_topic=f"{tag}-seller", seller_group_id=f"{tag}-seller"
    )  # the shop sells seller 1's seed products (ACTIVE from catalog's seed)
    await migrate(infra, catalog_settings.db_name, CATALOG.migrations, CATALOG.seed)
    await migrate(infra, "br_order", ORDER_MIGRATIONS)
    await migrate(infra, "br_like", LIKE.migrations)
    await migrate(infra, "br_review", REVIEW.migrations)
    like_topic, review_topic = f"{tag}-like", f"{tag}-review"
    async with (
        served_app(create_catalog(catalog_settings)) as catalog_url,
        served_app(create_emulator(TossEmulatorSettings())) as emulator_url,
        served_app(
            create_like(CatalogLikeSettings(infra=infra, db_name="br_like", node_id=142, catalog_url=catalog_url,
                                            topic=like_topic))
        ) as like_url,
        served_app(
            create_review(CatalogReviewSettings(infra=infra, db_name="br_review", node_id=143,
                                                catalog_url=catalog_url, topic=review_topic))
        ) as review_url,
        served_app(
            create_hot(HotCatalogSettings(infra=infra, catalog_url=catalog_url, key_prefix=tag, consumer_group=tag,
                                          like_topic=like_topic, review_topic=review_topic,
                                          payment_topic=f"{tag}-payment", hot_list_cache_ttl_s=0))
        ) as hot_url,
    ):  # fmt: skip
        order_settings = OrderSettings(
            infra=infra,
            db_name="br_order",
            node_id=141,
            catalog_url=catalog_url,
            hot_catalog_url=hot_url,
            toss_api_url=emulator_url,
            toss_sdk_url=f"{emulator_url}/v1/payment",
            payment_topic=f"{tag}-order-payment",  # this shop's payments reach no other test's consumers
            wallet_topic=f"{tag}-order-wallet",
            wallet_group_id=f"{tag}-order-wallet-result",
        )
        async with served_app(create_order(order_settings)) as order_url:
            yield Shop(order_url, like_url, review_url, hot_url, emulator_url)


@pytest.fixture(scope="session")
def shop(shop_services: Shop) -> str:
    return shop_services.url
