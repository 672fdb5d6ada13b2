"""Browser tests: Playwright drives Debian's headless Chromium (Playwright cannot download its own browser
here) against the shop served over real HTTP — catalog, the Toss emulator, likes, reviews, hot-catalog, identity,
order, wallet and order-query on free ports, all in this process.

Identity has the seed accounts (member1..3, seller1, ops; password ``<login id>-password``) and signs with the
run's key (tests/conftest.py), so the shop accepts both its tokens and those a test mints (``tests.support``)."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import httpx
import pytest
from playwright.async_api import Browser, async_playwright
from pydantic import SecretStr

from kiwishop.catalog.app import SERVICE as CATALOG
from kiwishop.catalog.app import create_app as create_catalog
from kiwishop.catalog.settings import CatalogSettings
from kiwishop.catalog_like.app import SERVICE as LIKE
from kiwishop.catalog_like.app import create_app as create_like
from kiwishop.catalog_like.settings import CatalogLikeSettings
from kiwishop.catalog_review.app import SERVICE as REVIEW
from kiwishop.catalog_review.app import create_app as create_review
from kiwishop.catalog_review.settings import CatalogReviewSettings
from kiwishop.contracts.topics import all_topics
from kiwishop.hot_catalog.app import create_app as create_hot
from kiwishop.hot_catalog.settings import HotCatalogSettings
from kiwishop.identity.app import SERVICE as IDENTITY
from kiwishop.identity.app import create_app as create_identity
from kiwishop.identity.settings import IdentitySettings
from kiwishop.order.app import create_app as create_order
from kiwishop.order.migrations import MIGRATIONS as ORDER_MIGRATIONS
from kiwishop.order.settings import OrderSettings
from kiwishop.order_query.app import create_app as create_order_query
from kiwishop.order_query.settings import OrderQuerySettings
from kiwishop.platform.kafka import ensure_topics
from kiwishop.platform.migrations import migrate
from kiwishop.platform.settings import InfraSettings
from kiwishop.toss_emulator.app import create_app as create_emulator
from kiwishop.toss_emulator.settings import TossEmulatorSettings
from kiwishop.wallet.app import SERVICE as WALLET
from kiwishop.wallet.app import create_app as create_wallet
from kiwishop.wallet.settings import WalletSettings
from kiwishop_dev.devstack.infra import TansuBroker
from tests.support import dead_url, emulator_admin, on_free_port, served_app, unique

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# The emulator's fault injection for a PSP that never answers in time: every confirm, cancel *and* lookup hangs,
# then fails (nothing is done at the PSP). The hang is short: order retries 3 times (a confirm then looks the key
# up 3 times) before it answers "in doubt".
PSP_TIMING_OUT = {"faultTimeoutRate": 1.0, "fault5xxRate": 0.0, "faultDropRate": 0.0, "faultLookups": True,
                  "hangS": 0.2}  # fmt: skip
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
    wallet_url: str
    order_query_url: str
    identity_url: str  # the seed accounts' logins
    infra: InfraSettings  # the servers of the shop's money: order's database and the money broker
    order_db: str


@pytest.fixture(scope="session")
def money_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A broker of the browser shop's own (in memory, like the test runner's) for its money: order's PAYMENT_CONFIRM
    and PAYMENT_CANCELED to wallet and order-query, wallet's WALLET_SETTLED back to order. Wallet reads and writes
    the real topics with its real consumer groups (it has no settings for them): on the runner's shared broker it
    would settle other tests' payments and answer their sellers' wallet requests, and they its."""
    logs = tmp_path_factory.mktemp("money-broker")

    def start(port: int) -> TansuBroker:
        broker = TansuBroker(port, logs, name="tansu-browser")
        broker.start()
        return broker

    broker = on_free_port(start)
    try:
        yield broker.bootstrap
    finally:
        broker.stop()


@pytest.fixture(scope="session")
async def shop_services(infra: InfraSettings, money_broker: str) -> AsyncIterator[Shop]:
    """The shop over real HTTP: catalog, the Toss emulator, likes, reviews, hot-catalog, wallet, order-query and
    order.

    Likes and reviews go to topics of this fixture's own, so the ranking sees only what the browser tests do
    (hot-catalog reads no payments here). Order, wallet (seed: seller 1's wallet) and order-query meet on the
    money broker, with the real topics: a paid line is credited and a canceled one debited, and order-query
    counts the seller's sales, as on the local stack.
    """
    tag = unique("br").replace("-", "_")
    money = infra.model_copy(update={"kafka_bootstrap_servers": money_broker})
    await ensure_topics(money, all_topics())
    await migrate(infra, "br_wallet", WALLET.migrations, WALLET.seed)
    catalog_settings = CatalogSettings(
        infra=infra, db_name="br_catalog", node_id=140, seller_topic=f"{tag}-seller", seller_group_id=f"{tag}-seller"
    )  # the shop sells seller 1's seed products (ACTIVE from catalog's seed)
    await migrate(infra, catalog_settings.db_name, CATALOG.migrations, CATALOG.seed)
    await migrate(infra, "br_order", ORDER_MIGRATIONS)
    await migrate(infra, "br_like", LIKE.migrations)
    await migrate(infra, "br_review", REVIEW.migrations)
    await migrate(infra, "br_identity", IDENTITY.migrations, IDENTITY.seed)  # the seed accounts
    identity_settings = IdentitySettings(
        infra=infra, db_name="br_identity", node_id=146, signing_key=SecretStr(os.environ["KIWI_IDENTITY_SIGNING_KEY"])
    )
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
        served_app(
            create_wallet(WalletSettings(infra=money, db_name="br_wallet", node_id=144,
                                         consumer_retry_backoff_s=(0.05, 0.1, 0.2)))
        ) as wallet_url,
        served_app(
            # The seller sales come from the consumed events alone; order-query asks order only for member
            # histories, which these pages read from order itself (and order must know order-query's URL first).
            create_order_query(OrderQuerySettings(infra=money, node_id=145, key_prefix=tag, consumer_group=tag,
                                                  order_url=dead_url(), freeze_gc_after_startup=False))
        ) as order_query_url,
        served_app(create_identity(identity_settings)) as identity_url,
    ):  # fmt: skip
        order_settings = OrderSettings(
            infra=money,  # the payment and wallet topics are the money broker's, this shop's alone
            db_name="br_order",
            node_id=141,
            catalog_url=catalog_url,
            hot_catalog_url=hot_url,
            wallet_url=wallet_url,
            order_query_url=order_query_url,
            identity_url=identity_url,
            toss_api_url=emulator_url,
            toss_sdk_url=f"{emulator_url}/v1/payment",
        )
        async with served_app(create_order(order_settings)) as order_url:
            yield Shop(
                order_url, like_url, review_url, hot_url, emulator_url, wallet_url, order_query_url, identity_url,
                money, "br_order",
            )  # fmt: skip


@pytest.fixture(scope="session")
def shop(shop_services: Shop) -> str:
    return shop_services.url


@pytest.fixture
async def emulator_faults(shop_services: Shop) -> AsyncIterator[httpx.AsyncClient]:
    """The emulator's PUT /emulator/faults; whatever a test sets is put back afterwards (the emulator is shared)."""
    async with httpx.AsyncClient(base_url=shop_services.emulator_url, headers=emulator_admin()) as emulator:
        before = (await emulator.get("/emulator/faults")).json()
        try:
            yield emulator
        finally:
            assert (await emulator.put("/emulator/faults", json=before)).status_code == 200
