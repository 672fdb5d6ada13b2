"""The fuzz tier: every service served over real HTTP against the session's real servers, fuzzed by schemathesis.

schemathesis drives its requests synchronously (``requests``), so the apps cannot live in the test runner's
event loop (a blocked loop serves nothing). They run in an event loop of their own on a background thread
(``ServiceLoop``), each with its real settings and a fuzz-only schema (``fz_<service>``) migrated and seeded
there; peers point at the real peers (catalog for likes, reviews, hot-catalog and order; the Toss emulator
for order; order for order-query, which also reads order's payment topic). Consumer groups, key prefixes and
the topics a service lets tests choose are the fuzz tier's own (seller and wallet use the real topics, as
their integration tests do, with groups of their own).
The console reads all of them (and reconciles the fuzz order's and wallet's schemas).
Every fixture here is package-scoped: the services stop when the tier's last test is done.

The tier runs on one worker: with pytest-xdist's two, schemathesis' parametrized tests turn into one test per
service that runs no operation at all (a route answering 500 passed) — so such a run stops here instead.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import threading
from collections.abc import Coroutine, Iterator
from decimal import Decimal
from typing import Any, TypeVar

import httpx
import pytest
from fastapi import FastAPI

from kiwishop.catalog.app import SERVICE as CATALOG
from kiwishop.catalog.settings import CatalogSettings
from kiwishop.catalog_like.app import SERVICE as LIKE
from kiwishop.catalog_like.settings import CatalogLikeSettings
from kiwishop.catalog_review.app import SERVICE as REVIEW
from kiwishop.catalog_review.settings import CatalogReviewSettings
from kiwishop.console.app import SERVICE as CONSOLE
from kiwishop.console.settings import ConsoleSettings
from kiwishop.hot_catalog.app import create_app as create_hot
from kiwishop.hot_catalog.settings import HotCatalogSettings
from kiwishop.identity.app import SERVICE as IDENTITY
from kiwishop.identity.settings import IdentitySettings
from kiwishop.order.app import SERVICE as ORDER
from kiwishop.order.settings import OrderSettings
from kiwishop.order_query.app import create_app as create_order_query
from kiwishop.order_query.settings import OrderQuerySettings
from kiwishop.platform.migrations import migrate
from kiwishop.platform.settings import InfraSettings
from kiwishop.seller.app import SERVICE as SELLER
from kiwishop.seller.settings import SellerSettings
from kiwishop.toss_emulator.app import create_app as create_emulator
from kiwishop.toss_emulator.settings import PUBLIC_TEST_SECRET_KEY, TossEmulatorSettings
from kiwishop.wallet.app import SERVICE as WALLET
from kiwishop.wallet.settings import WalletSettings
from tests.support import as_member, dead_url, emulator_admin, served_app, unique

if int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")) > 1:
    raise pytest.UsageError("tests/fuzz must run on one worker (`pytest -p no:xdist tests/fuzz`): see its conftest")

T = TypeVar("T")
FAST_RETRIES = (0.05, 0.1, 0.2)
ORDER_PAYMENT_TOPIC = unique("fz-order-payment")  # the fuzzed order's PAYMENT_CONFIRMs reach only order-query
TOSS_AUTH = "Basic " + base64.b64encode(f"{PUBLIC_TEST_SECRET_KEY}:".encode()).decode()
NO_FAULTS = {
    "latencyMsMin": 0, "latencyMsMax": 0, "fault5xxRate": 0.0, "faultTimeoutRate": 0.0, "faultDropRate": 0.0,
    "hangS": 2.0, "faultLookups": False,
}  # fmt: skip


class ServiceLoop:
    """An asyncio event loop on a thread of its own: the served apps live here, the fuzzer's requests do not."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="fuzz-services", daemon=True)
        self._thread.start()
        self._stack = contextlib.AsyncExitStack()

    def run(self, coro: Coroutine[Any, Any, T], timeout_s: float = 120.0) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout_s)

    def serve(self, app: FastAPI) -> str:
        """Serve ``app`` over HTTP until ``close``; its lifespan (relays, consumers, workers) runs as in production."""
        return self.run(self._stack.enter_async_context(served_app(app)))

    def close(self) -> None:
        try:
            self.run(self._stack.aclose())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(10)
            self.loop.close()


@pytest.fixture(scope="package")
def service_loop() -> Iterator[ServiceLoop]:
    loop = ServiceLoop()
    yield loop
    loop.close()


def _migrate(loop: ServiceLoop, infra: InfraSettings, name: str, migrations: Any, seed: Any = ()) -> str:
    loop.run(migrate(infra, name, migrations, seed))
    return name


@pytest.fixture(scope="package")
def catalog_url(service_loop: ServiceLoop, infra: InfraSettings) -> str:
    db = _migrate(service_loop, infra, "fz_catalog", CATALOG.migrations, CATALOG.seed)
    tag = unique("fz-catalog")
    settings = CatalogSettings(
        infra=infra, db_name=db, node_id=180, seller_topic=f"{tag}-seller", seller_group_id=tag,
        consumer_retry_backoff_s=FAST_RETRIES,
    )  # fmt: skip
    return service_loop.serve(CATALOG.create_app(settings))


@pytest.fixture(scope="package")
def like_url(service_loop: ServiceLoop, infra: InfraSettings, catalog_url: str) -> str:
    db = _migrate(service_loop, infra, "fz_catalog_like", LIKE.migrations, LIKE.seed)
    settings = CatalogLikeSettings(
        infra=infra, db_name=db, node_id=181, catalog_url=catalog_url, topic=unique("fz-like"),
        consumer_retry_backoff_s=FAST_RETRIES,
    )  # fmt: skip
    return service_loop.serve(LIKE.create_app(settings))


@pytest.fixture(scope="package")
def review_url(service_loop: ServiceLoop, infra: InfraSettings, catalog_url: str) -> str:
    db = _migrate(service_loop, infra, "fz_catalog_review", REVIEW.migrations, REVIEW.seed)
    settings = CatalogReviewSettings(
        infra=infra, db_name=db, node_id=182, catalog_url=catalog_url, topic=unique("fz-review"),
        consumer_retry_backoff_s=FAST_RETRIES,
    )  # fmt: skip
    return service_loop.serve(REVIEW.create_app(settings))


@pytest.fixture(scope="package")
def hot_url(service_loop: ServiceLoop, infra: InfraSettings, catalog_url: str) -> str:
    tag = unique("fz-hot")
    settings = HotCatalogSettings(
        infra=infra, catalog_url=catalog_url, key_prefix=tag, consumer_group=tag, like_topic=f"{tag}-like",
        review_topic=f"{tag}-review", payment_topic=f"{tag}-payment", consumer_retry_backoff_s=FAST_RETRIES,
    )  # fmt: skip
    return service_loop.serve(create_hot(settings))


@pytest.fixture(scope="package")
def wallet_url(service_loop: ServiceLoop, infra: InfraSettings) -> str:
    db = _migrate(service_loop, infra, "fz_wallet", WALLET.migrations, WALLET.seed)
    settings = WalletSettings(
        infra=infra, db_name=db, node_id=183, settlement_group_id=unique("fz-wallet-settlement"),
        creation_group_id=unique("fz-wallet-creation"), consumer_retry_backoff_s=FAST_RETRIES,
    )  # fmt: skip
    return service_loop.serve(WALLET.create_app(settings))


@pytest.fixture(scope="package")
def seller_url(service_loop: ServiceLoop, infra: InfraSettings) -> str:
    db = _migrate(service_loop, infra, "fz_seller", SELLER.migrations, SELLER.seed)
    settings = SellerSettings(
        infra=infra, db_name=db, node_id=184, reply_group_id=unique("fz-seller-registration"),
        consumer_retry_backoff_s=FAST_RETRIES,
    )  # fmt: skip
    return service_loop.serve(SELLER.create_app(settings))


@pytest.fixture(scope="package")
def emulator_url(service_loop: ServiceLoop) -> str:
    return service_loop.serve(create_emulator(TossEmulatorSettings(node_id=185, hang_s=2.0)))


async def _pay_one_order(order_url: str, emulator_url: str) -> None:
    """Seed order with one paid order and one left unpaid (member 1), so the reads find something."""
    async with (
        httpx.AsyncClient(base_url=order_url, timeout=30, headers=as_member(1)) as order,
        httpx.AsyncClient(base_url=emulator_url, timeout=30, headers=emulator_admin()) as emulator,
    ):
        for products in ([1, 2], [3]):
            response = await order.post("/api/checkout", json={"memberNo": 1, "productNoList": products})
            assert response.status_code == 201, response.text
        created = response.json()
        amount = Decimal(str(created["amount"]))
        authorised = await emulator.post(
            "/emulator/payments",
            json={"orderId": created["orderId"], "amount": int(amount), "orderName": created["orderName"]},
        )
        assert authorised.status_code == 201, authorised.text
        confirmed = await order.post(
            "/api/payments/confirm",
            json={"paymentKey": authorised.json()["paymentKey"], "orderId": created["orderId"], "amount": str(amount)},
        )
        assert confirmed.status_code == 200, confirmed.text


@pytest.fixture(scope="package")
def order_url(
    service_loop: ServiceLoop,
    infra: InfraSettings,
    catalog_url: str,
    emulator_url: str,
    hot_url: str,
    identity_url: str,
    wallet_url: str,
) -> str:
    db = _migrate(service_loop, infra, "fz_order", ORDER.migrations)
    settings = OrderSettings(
        infra=infra, db_name=db, node_id=186, catalog_url=catalog_url, hot_catalog_url=hot_url,
        toss_api_url=emulator_url, toss_sdk_url=f"{emulator_url}/v1/payment", psp_read_timeout_s=5.0,
        psp_retry_base_s=0.05, confirm_wait_s=2.0, consumer_retry_backoff_s=FAST_RETRIES,
        payment_topic=ORDER_PAYMENT_TOPIC, wallet_topic=f"{ORDER_PAYMENT_TOPIC}-wallet",
        wallet_group_id=f"{ORDER_PAYMENT_TOPIC}-wallet-result", identity_url=identity_url, wallet_url=wallet_url,
        order_query_url=dead_url(),  # order-query reads order: the seller page shows its sales as unavailable
    )  # fmt: skip
    url = service_loop.serve(ORDER.create_app(settings))
    service_loop.run(_pay_one_order(url, emulator_url))
    return url


@pytest.fixture(scope="package")
def order_query_url(service_loop: ServiceLoop, infra: InfraSettings, order_url: str) -> str:
    tag = unique("fz-oq")
    settings = OrderQuerySettings(
        infra=infra, node_id=187, order_url=order_url, key_prefix=tag, consumer_group=tag,
        payment_topic=ORDER_PAYMENT_TOPIC, consumer_retry_backoff_s=FAST_RETRIES, freeze_gc_after_startup=False,
    )  # fmt: skip
    return service_loop.serve(create_order_query(settings))


@pytest.fixture(scope="package")
def identity_url(service_loop: ServiceLoop, infra: InfraSettings) -> str:
    """identity with its seed accounts; it signs with the run's key (tests/conftest.py), like every token here."""
    db = _migrate(service_loop, infra, "fz_identity", IDENTITY.migrations, IDENTITY.seed)
    return service_loop.serve(IDENTITY.create_app(IdentitySettings(infra=infra, db_name=db, node_id=188)))


@pytest.fixture(scope="package")
def console_url(
    service_loop: ServiceLoop, infra: InfraSettings, order_url: str, order_query_url: str, catalog_url: str,
    like_url: str, review_url: str, hot_url: str, wallet_url: str, seller_url: str, identity_url: str,
    emulator_url: str,
) -> str:  # fmt: skip
    """The console over every fuzz service; its reconcile reads the fuzz order's and wallet's schemas."""
    db = _migrate(service_loop, infra, "fz_console", CONSOLE.migrations)
    settings = ConsoleSettings(
        infra=infra, db_name=db, node_id=191, order_url=order_url, order_query_url=order_query_url,
        catalog_url=catalog_url, catalog_like_url=like_url, catalog_review_url=review_url, hot_catalog_url=hot_url,
        wallet_url=wallet_url, seller_url=seller_url, identity_url=identity_url, psp_url=emulator_url,
        order_db_name="fz_order", wallet_db_name="fz_wallet", reconcile_interval_s=0, collect_interval_s=3600,
    )  # fmt: skip
    return service_loop.serve(CONSOLE.create_app(settings))


def reset_emulator_faults(emulator_url: str) -> None:
    response = httpx.put(f"{emulator_url}/emulator/faults", json=NO_FAULTS, headers=emulator_admin(), timeout=10)
    assert response.status_code == 200, response.text
