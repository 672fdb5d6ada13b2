"""reconcile on a real flow: three paid and settled orders agree everywhere; then, one at a time, a fault that
exactly one of reconcile's checks catches — reconcile names it and exits 1 — undone before the next.

Runs catalog, the Toss emulator, order and wallet in-process against the real servers, with a broker of
its own (so no other test's payments reach this wallet). Order and wallet stop before the faults: their
workers would otherwise heal (or trip over) what a fault breaks."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest

from kiwishop.catalog.app import SERVICE as CATALOG
from kiwishop.catalog.app import create_app as create_catalog
from kiwishop.catalog.settings import CatalogSettings
from kiwishop.contracts.topics import PAYMENT
from kiwishop.ops.reconcile import Sources, reconcile, render
from kiwishop.order.app import SERVICE as ORDER
from kiwishop.order.app import create_app as create_order
from kiwishop.order.settings import TEST_SECRET_KEY, OrderSettings
from kiwishop.platform.envelope import Envelope
from kiwishop.platform.ids import Snowflake
from kiwishop.platform.kafka import KafkaPublisher, OutgoingRecord
from kiwishop.platform.migrations import migrate
from kiwishop.platform.settings import InfraSettings
from kiwishop.toss_emulator.app import create_app as create_emulator
from kiwishop.toss_emulator.settings import TossEmulatorSettings
from kiwishop.wallet.app import SERVICE as WALLET
from kiwishop.wallet.app import create_app as create_wallet
from kiwishop.wallet.settings import WalletSettings
from kiwishop_dev.devstack.fleet import infra_env
from kiwishop_dev.devstack.infra import TansuBroker
from tests.e2e.reconcile_support import (
    Fault,
    caught,
    execute,
    psp_that_cannot_answer_about,
    run_reconcile,
    scalar,
    seller_line,
)
from tests.integration.order.payments import Emulator, checkout, confirm
from tests.support import eventually, on_free_port, running_app, served_app

FAST = {"consumer_retry_backoff_s": (0.05, 0.1, 0.2), "outbox_poll_interval_s": 0.2}


@pytest.fixture
async def own_infra(infra: InfraSettings, tmp_path: Path) -> AsyncIterator[InfraSettings]:
    def started(port: int) -> TansuBroker:
        broker = TansuBroker(port, tmp_path, name="tansu-reconcile")
        try:
            broker.start()
        except BaseException:
            broker.stop()
            raise
        return broker

    broker = on_free_port(started)
    try:
        yield infra.model_copy(update={"kafka_bootstrap_servers": broker.bootstrap})
    finally:
        broker.stop()


async def test_settled_orders_reconcile_and_each_check_catches_a_fault_of_its_own(
    own_infra: InfraSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    await migrate(own_infra, "rc_catalog", CATALOG.migrations, CATALOG.seed)
    await migrate(own_infra, "rc_order", ORDER.migrations)
    await migrate(own_infra, "rc_wallet", WALLET.migrations, WALLET.seed)
    async with (
        served_app(create_catalog(CatalogSettings(infra=own_infra, db_name="rc_catalog", node_id=150))) as catalog_url,
        served_app(create_emulator(TossEmulatorSettings())) as psp_url,
        httpx.AsyncClient(base_url=psp_url) as psp_client,
    ):  # fmt: skip
        emulator = Emulator(psp_client)
        async with (
            running_app(create_wallet(WalletSettings(infra=own_infra, db_name="rc_wallet", node_id=151, **FAST))),
            running_app(
                create_order(
                    OrderSettings(infra=own_infra, db_name="rc_order", node_id=152, catalog_url=catalog_url,
                                  toss_api_url=psp_url, hot_catalog_url="http://127.0.0.1:9", **FAST)
                )
            ) as order,
        ):  # fmt: skip
            paid = []
            for _ in range(3):
                created = await checkout(order, [1, 2, 3])
                key = await emulator.authorise(created["orderId"], created["amount"])
                assert (await confirm(order, key, created["orderId"], created["amount"])).status_code == 200
                paid.append(created["orderId"])
            unpaid = (await checkout(order, [1]))["orderId"]  # checked out, never paid: NOT_STARTED
            await eventually(
                lambda: scalar(own_infra, "rc_order", "SELECT COUNT(*) FROM payment_events WHERE is_wallet_done = 1"),
                lambda done: done == 3,
                timeout_s=60,
            )
        # order and wallet are stopped: no worker heals (or trips over) what the faults below break

        sources = Sources(own_infra, "rc_order", "rc_wallet", psp_url, TEST_SECRET_KEY, lag_bound_s=30)
        findings = await reconcile(sources)
        assert findings.clean, render(findings)
        assert findings.per_seller[1] == {
            **dict.fromkeys(("psp", "success_lines", "ledger", "balance"), 18000),
            "held": 0,
        }
        assert findings.order_counts == {"SUCCESS": 3, "NOT_STARTED": 1}

        env = {
            **infra_env(own_infra),
            "KIWI_ORDER_DB_NAME": "rc_order",
            "KIWI_WALLET_DB_NAME": "rc_wallet",
            "KIWI_ORDER_TOSS_API_URL": psp_url,
        }
        status, output = await run_reconcile(monkeypatch, env, "--lag-bound", "0")
        assert (status, caught(output)) == (0, []), output

        def sql(db: str, statement: str, **params: object) -> Callable[[], Awaitable[None]]:
            return lambda: execute(own_infra, db, statement, **params)

        first = paid[0]
        lines_of = "UPDATE payment_orders SET payment_order_status = :s{extra} WHERE order_id = :o"
        faults = [
            Fault(
                "a wallet's balance differs from its ledger (one won from nowhere)",
                sql("rc_wallet", "UPDATE wallets SET balance = balance + 1 WHERE seller_no = 1"),
                sql("rc_wallet", "UPDATE wallets SET balance = balance - 1 WHERE seller_no = 1"),
                [("seller", seller_line(balance="18001.00"))],
            ),
            Fault(
                "a ledger row without its balance change",
                sql(
                    "rc_wallet",
                    "INSERT INTO wallet_transactions VALUES (9001, 1, 1.00, 'CREDIT', 9001, 'TEST', NULL,"
                    " 'fault:ledger', UTC_TIMESTAMP(3), UTC_TIMESTAMP(3))",
                ),
                sql("rc_wallet", "DELETE FROM wallet_transactions WHERE idempotency_key = 'fault:ledger'"),
                [("seller", seller_line(ledger="18001.00"))],
            ),
            Fault(
                "a held settlement nobody paid for",
                sql(
                    "rc_wallet",
                    "INSERT INTO held_settlements VALUES ('fault:held', 'no-such-order', 9002, 1, 1.00,"
                    " 9002, UTC_TIMESTAMP(3), NULL)",
                ),
                sql("rc_wallet", "DELETE FROM held_settlements WHERE idempotency_key = 'fault:held'"),
                [("seller", seller_line(held="1.00"))],
            ),
            Fault(
                "an approved order's line is not SUCCESS (the order still is)",
                sql("rc_order", lines_of.format(extra="") + " AND product_no = 3", s="FAILURE", o=first),
                sql("rc_order", lines_of.format(extra="") + " AND product_no = 3", s="SUCCESS", o=first),
                [("seller", seller_line(success_lines="15000.00"))],
            ),
            Fault(
                "an order's total is not what the PSP approved",
                sql(
                    "rc_order", "UPDATE payment_events SET total_amount = total_amount + 1 WHERE order_id = :o", o=first
                ),
                sql(
                    "rc_order", "UPDATE payment_events SET total_amount = total_amount - 1 WHERE order_id = :o", o=first
                ),
                [("psp-vs-order", first)],
            ),
            Fault(
                "an order SUCCESS that the PSP never approved",
                sql("rc_order", lines_of.format(extra=""), s="SUCCESS", o=unpaid),
                sql("rc_order", lines_of.format(extra=""), s="NOT_STARTED", o=unpaid),
                # its line is counted as paid while no approval stands behind it: seller 1's columns disagree too
                [("success-without-psp", unpaid), ("seller", seller_line(success_lines="19000.00"))],
            ),
            Fault(
                "a paid order not settled past the lag bound",
                sql("rc_order", "UPDATE payment_events SET is_wallet_done = 0 WHERE order_id = :o", o=first),
                sql("rc_order", "UPDATE payment_events SET is_wallet_done = 1 WHERE order_id = :o", o=first),
                [("unsettled", first)],
            ),
            Fault(
                "an order in doubt past the recovery window",
                sql(
                    "rc_order",
                    lines_of.format(extra=", updated_at = UTC_TIMESTAMP(3) - INTERVAL 1 HOUR"),
                    s="UNKNOWN",
                    o=unpaid,
                ),
                sql("rc_order", lines_of.format(extra=""), s="NOT_STARTED", o=unpaid),
                [("stuck", unpaid)],
            ),
            Fault(
                "an order QUARANTINED (a person must decide)",
                sql("rc_order", lines_of.format(extra=""), s="QUARANTINED", o=unpaid),
                sql("rc_order", lines_of.format(extra=""), s="NOT_STARTED", o=unpaid),
                [("quarantined", unpaid)],
            ),
        ]
        async with served_app(psp_that_cannot_answer_about(first, psp_url)) as failing_psp:
            faults.append(
                Fault(
                    "the PSP cannot be asked about one paid order",
                    lambda: asyncio.sleep(0),
                    lambda: asyncio.sleep(0),
                    # unasked, its approval is missing from seller 1's PSP column too
                    [("psp-unanswered", first), ("seller", seller_line(psp="12000.00"))],
                    psp_url=failing_psp,
                )
            )
            for fault in faults:
                await fault.apply()
                try:
                    fault_env = {**env, "KIWI_ORDER_TOSS_API_URL": fault.psp_url or psp_url}
                    status, output = await run_reconcile(monkeypatch, fault_env, "--lag-bound", "0")
                finally:
                    await fault.undo()
                assert (fault.name, status, caught(output)) == (fault.name, 1, fault.expected), output
                assert "MISMATCH" in output or all(check != "seller" for check, _ in fault.expected), output
        status, output = await run_reconcile(monkeypatch, env, "--lag-bound", "0")
        assert (status, caught(output)) == (0, []), output  # every fault undone: clean again

        # A dead letter is listed (a person looks at it); the money still agrees, so it is no discrepancy.
        publisher = KafkaPublisher(own_infra)
        try:
            parked = Envelope(Snowflake(153).next_id(), "PAYMENT_CONFIRM", {"orderId": "parked"}, "parked")
            await publisher.send(OutgoingRecord(f"{PAYMENT}.DLT", "parked", parked.to_json()))
        finally:
            await publisher.close()
        status, output = await run_reconcile(monkeypatch, env, "--lag-bound", "0")
        assert f"dead letters: {PAYMENT}.DLT 1" in output, output

        # The real command, as a process: the corrupted balance again, exit status 1.
        await execute(own_infra, "rc_wallet", "UPDATE wallets SET balance = balance + 1 WHERE seller_no = 1")
        cli_env = {**os.environ, **env}
        process = await asyncio.create_subprocess_exec(  # async: the emulator answering it lives in this event loop
            sys.executable, "-m", "kiwishop", "reconcile", env=cli_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        output = (await asyncio.wait_for(process.communicate(), timeout=120))[0].decode()
        assert process.returncode == 1, output
        assert "MISMATCH" in output
        assert "reconcile: 1 discrepancies" in output
        assert caught(output) == [("seller", seller_line(balance="18001.00"))]
