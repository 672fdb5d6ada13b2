"""Browser tests: Playwright drives Debian's headless Chromium (Playwright cannot download its own browser
here) against the shop served over real HTTP — catalog, the Toss emulator and order on free ports."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, async_playwright

from kiwishop.catalog.app import SERVICE as CATALOG
from kiwishop.catalog.app import create_app as create_catalog
from kiwishop.catalog.settings import CatalogSettings
from kiwishop.order.app import create_app as create_order
from kiwishop.order.migrations import MIGRATIONS as ORDER_MIGRATIONS
from kiwishop.order.settings import OrderSettings
from kiwishop.platform.migrations import migrate
from kiwishop.platform.settings import InfraSettings
from kiwishop.toss_emulator.app import create_app as create_emulator
from kiwishop.toss_emulator.settings import TossEmulatorSettings
from tests.support import served_app

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


@pytest.fixture(scope="session")
async def shop(infra: InfraSettings) -> AsyncIterator[str]:
    """The order service's base URL, with a real catalog and the Toss emulator behind it."""
    catalog_settings = CatalogSettings(infra=infra, db_name="br_catalog", node_id=140)
    await migrate(infra, catalog_settings.db_name, CATALOG.migrations, CATALOG.seed)
    await migrate(infra, "br_order", ORDER_MIGRATIONS)
    async with (
        served_app(create_catalog(catalog_settings)) as catalog_url,
        served_app(create_emulator(TossEmulatorSettings())) as emulator_url,
    ):
        order_settings = OrderSettings(
            infra=infra,
            db_name="br_order",
            node_id=141,
            catalog_url=catalog_url,
            toss_api_url=emulator_url,
            toss_sdk_url=f"{emulator_url}/v1/payment",
        )
        async with served_app(create_order(order_settings)) as order_url:
            yield order_url
