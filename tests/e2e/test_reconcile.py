"""reconcile on a real flow: three paid and settled orders agree everywhere; one corrupted balance → exit 1.

Runs catalog, the Toss emulator, order and wallet in-process against the real servers, with a broker of
its own (so no other test's payments reach this wallet)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text

from kiwishop.catalog.app import SERVICE as CATALOG
from kiwishop.catalog.app import create_app as create_catalog
from kiwishop.catalog.settings import CatalogSettings
from kiwishop.ops.reconcile import Sources, reconcile, render
from kiwishop.order.app import SERVICE as ORDER
from kiwishop.order.app import create_app as create_order
from kiwishop.order.settings import TEST_SECRET_KEY, OrderSettings
from kiwishop.platform.db import Database
from kiwishop.platform.migrations import migrate
from kiwishop.platform.settings import InfraSettings
from kiwishop.toss_emulator.app import create_app as create_emulator
from kiwishop.toss_emulator.settings import TossEmulatorSettings
from kiwishop.wallet.app import SERVICE as WALLET
from kiwishop.wallet.app import create_app as create_wallet
from kiwishop.wallet.settings import WalletSettings
from kiwishop_dev.devstack.fleet import infra_env
from kiwishop_dev.devstack.infra import TansuBroker
from kiwishop_dev.devstack.procs import free_port
from tests.integration.order.payments import Emulator, checkout, confirm
from tests.support import eventually, running_app, served_app

FAST = {"consumer_retry_backoff_s": (0.05, 0.1, 0.2), "outbox_poll_interval_s": 0.2}


@pytest.fixture
async def own_infra(infra: InfraSettings, tmp_path: Path) -> AsyncIterator[InfraSettings]:
    broker = TansuBroker(free_port(), tmp_path, name="tansu-reconcile")
    broker.start()
    try:
        yield infra.model_copy(update={"kafka_bootstrap_servers": broker.bootstrap})
    finally:
        broker.stop()


async def scalar(infra: InfraSettings, db_name: str, sql: str) -> object:
    db = Database.connect(infra, db_name)
    try:
        async with db.engine.connect() as conn:
            return (await conn.execute(text(sql))).scalar()
    finally:
        await db.close()


async def test_three_settled_orders_reconcile_and_a_corrupted_balance_is_caught(own_infra: InfraSettings) -> None:
    import httpx

    await migrate(own_infra, "rc_catalog", CATALOG.migrations, CATALOG.seed)
    await migrate(own_infra, "rc_order", ORDER.migrations)
    await migrate(own_infra, "rc_wallet", WALLET.migrations, WALLET.seed)
    async with (
        served_app(create_catalog(CatalogSettings(infra=own_infra, db_name="rc_catalog", node_id=150))) as catalog_url,
        served_app(create_emulator(TossEmulatorSettings())) as psp_url,
        running_app(create_wallet(WalletSettings(infra=own_infra, db_name="rc_wallet", node_id=151, **FAST))),
        running_app(
            create_order(
                OrderSettings(infra=own_infra, db_name="rc_order", node_id=152, catalog_url=catalog_url,
                              toss_api_url=psp_url, hot_catalog_url="http://127.0.0.1:9", **FAST)
            )
        ) as order,
        httpx.AsyncClient(base_url=psp_url) as psp_client,
    ):  # fmt: skip
        emulator = Emulator(psp_client)
        for _ in range(3):
            created = await checkout(order, [1, 2, 3])
            key = await emulator.authorise(created["orderId"], created["amount"])
            assert (await confirm(order, key, created["orderId"], created["amount"])).status_code == 200
        await eventually(
            lambda: scalar(own_infra, "rc_order", "SELECT COUNT(*) FROM payment_events WHERE is_wallet_done = 1"),
            lambda done: done == 3,
            timeout_s=60,
        )
        sources = Sources(own_infra, "rc_order", "rc_wallet", psp_url, TEST_SECRET_KEY, lag_bound_s=30)
        findings = await reconcile(sources)
        assert findings.clean, render(findings)
        assert findings.per_seller[1] == {
            **dict.fromkeys(("psp", "success_lines", "ledger", "balance"), 18000),
            "held": 0,
        }
        assert findings.order_counts == {"SUCCESS": 3}

        db = Database.connect(own_infra, "rc_wallet")
        async with db.uow() as uow:  # the corruption: one won appears from nowhere
            await uow.conn.execute(text("UPDATE wallets SET balance = balance + 1 WHERE seller_no = 1"))
            await uow.commit()
        await db.close()
        corrupted = await reconcile(sources)
        assert not corrupted.clean
        assert any(p.startswith("seller 1:") and "balance 18001.00" in p for p in corrupted.problems)

        env = {
            **os.environ,
            **infra_env(own_infra),
            "KIWI_ORDER_DB_NAME": "rc_order",
            "KIWI_WALLET_DB_NAME": "rc_wallet",
            "KIWI_ORDER_TOSS_API_URL": psp_url,
        }
        cli = await asyncio.create_subprocess_exec(  # async: the emulator answering it lives in this event loop
            sys.executable, "-m", "kiwishop", "reconcile", env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        output = (await asyncio.wait_for(cli.communicate(), timeout=120))[0].decode()
        assert cli.returncode == 1, output
        assert "MISMATCH" in output
        assert "reconcile: 1 discrepancies" in output
