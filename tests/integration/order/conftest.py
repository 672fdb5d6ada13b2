"""order against real servers: a real catalog and (for payments) the Toss emulator, both served over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx
import pytest

from kiwishop.catalog.app import SERVICE as CATALOG
from kiwishop.catalog.app import create_app as create_catalog
from kiwishop.catalog.settings import CatalogSettings
from kiwishop.order.app import create_app as create_order
from kiwishop.order.migrations import MIGRATIONS
from kiwishop.order.settings import OrderSettings
from kiwishop.platform.db import Database
from kiwishop.platform.migrations import migrate
from kiwishop.platform.settings import InfraSettings
from tests.integration.catalog.sellers import active_sellers
from tests.support import emulator_admin, running_app, served_app, unique

if TYPE_CHECKING:
    from tests.integration.order.payments import Emulator

ORDER_DB = "it_order"
EXTRA_PRODUCTS = (
    "INSERT IGNORE INTO products VALUES (10, 7, 'X', '상품X', 0.10, NOW(), NOW()), "
    "(11, 8, 'Y', '상품Y', 2500.00, NOW(), NOW()), (12, 9, 'Z', '상품Z', 1234.50, NOW(), NOW())"
)


@pytest.fixture(scope="session")
async def catalog_url(infra: InfraSettings) -> AsyncIterator[str]:
    """Catalog with the seed and EXTRA_PRODUCTS, whose sellers 7, 8 and 9 are registered (ACTIVE) there."""
    tag = unique("order-catalog")
    settings = CatalogSettings(
        infra=infra, db_name="it_order_catalog", node_id=110, seller_topic=f"{tag}-seller",
        seller_group_id=f"{tag}-group",
    )  # fmt: skip
    seed = (*CATALOG.seed, active_sellers(7, 8, 9), EXTRA_PRODUCTS)
    await migrate(infra, settings.db_name, CATALOG.migrations, seed)
    async with served_app(create_catalog(settings)) as url:
        yield url


@pytest.fixture
async def order_schema(infra: InfraSettings) -> str:
    """A schema of this test's own. Every order app runs a recovery and a settlement worker that sweep *every*
    order of its schema: in a shared one, an order a failed or earlier test left in doubt would be confirmed,
    looked up or re-published by the next test's app, and change that test's counts (PSP approvals and
    confirm calls, outbox rows, events on its topics)."""
    name = unique(ORDER_DB).replace("-", "_")
    await migrate(infra, name, MIGRATIONS)
    return name


@dataclass(frozen=True)
class OrderTopics:
    payment: str
    wallet: str


@pytest.fixture
def order_topics() -> OrderTopics:
    """Topics of this test's own: nobody else's events reach its order app, and its events reach nobody."""
    tag = unique("order")
    return OrderTopics(payment=f"{tag}-payment", wallet=f"{tag}-wallet")


@pytest.fixture
def order_settings(
    infra: InfraSettings, order_schema: str, catalog_url: str, order_topics: OrderTopics
) -> Callable[..., OrderSettings]:
    def make(**overrides: object) -> OrderSettings:
        values: dict[str, object] = {
            "payment_topic": order_topics.payment,
            "wallet_topic": order_topics.wallet,
            "wallet_group_id": f"{order_topics.wallet}-group",
            "infra": infra,
            "db_name": order_schema,
            "node_id": 120,
            "catalog_url": catalog_url,
            "toss_api_url": "http://127.0.0.1:9",  # replaced by tests that pay (emulator fixture)
            "hot_catalog_url": "http://127.0.0.1:9",  # never a running stack's hot-catalog
            "psp_read_timeout_s": 2.0,
            "psp_retry_base_s": 0.05,
            "recovery_interval_s": 0.2,
            "recovery_backoff_base_s": 0.2,
            "recovery_backoff_max_s": 2.0,
            "executing_stale_s": 5.0,
            "consumer_retry_backoff_s": (0.05, 0.1, 0.2),
            "outbox_poll_interval_s": 0.2,
        }
        values.update(overrides)
        return OrderSettings(**values)  # type: ignore[arg-type]

    return make


@pytest.fixture
async def order(order_settings: Callable[..., OrderSettings]) -> AsyncIterator[httpx.AsyncClient]:
    async with running_app(create_order(order_settings())) as client:
        yield client


@pytest.fixture
async def order_db(infra: InfraSettings, order_schema: str) -> AsyncIterator[Database]:
    db = Database.connect(infra, order_schema)
    yield db
    await db.close()


NO_FAULTS = {
    "latencyMsMin": 0, "latencyMsMax": 0, "fault5xxRate": 0.0, "faultTimeoutRate": 0.0, "faultDropRate": 0.0,
    "hangS": 2.0, "faultLookups": False,
}  # fmt: skip


@pytest.fixture(scope="session")
async def emulator_url() -> AsyncIterator[str]:
    from kiwishop.toss_emulator.app import create_app as create_emulator
    from kiwishop.toss_emulator.settings import TossEmulatorSettings

    # No webhooks: the tests send order's webhook themselves (test_webhook.py), never to a stack on 8080.
    async with served_app(create_emulator(TossEmulatorSettings(hang_s=2.0, webhook_url=""))) as url:
        yield url


@pytest.fixture
async def emulator(emulator_url: str) -> AsyncIterator[Emulator]:
    from tests.integration.order.payments import Emulator

    async with httpx.AsyncClient(base_url=emulator_url, timeout=30, headers=emulator_admin()) as client:
        emu = Emulator(client)
        await emu.faults(**NO_FAULTS)
        yield emu
        await emu.faults(**NO_FAULTS)


@pytest.fixture
async def paying_order(
    order_settings: Callable[..., OrderSettings], emulator_url: str
) -> AsyncIterator[httpx.AsyncClient]:
    async with running_app(create_order(order_settings(toss_api_url=emulator_url))) as client:
        yield client
