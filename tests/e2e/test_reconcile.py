"""reconcile on a real flow: three paid and settled orders — one partly and one wholly given back through order's
cancel API, debited by wallet — agree everywhere; then, one at a time, a fault that exactly one of reconcile's
checks catches — reconcile names it and exits 1 — undone before the next (reconcile_faults.py).

Runs catalog, the Toss emulator, order and wallet in-process against the real servers, with a broker of
its own (so no other test's payments reach this wallet). Order and wallet stop before the faults: their
workers would otherwise heal (or trip over) what a fault breaks."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from decimal import Decimal
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
from tests.e2e.reconcile_faults import Shop, cancel_faults, money_faults, outside_cancel
from tests.e2e.reconcile_support import (
    Fault,
    caught,
    execute,
    psp_that_cannot_answer_about,
    run_reconcile,
    scalar,
    seller_line,
)
from tests.integration.order.cancel_support import cancel, paid_order
from tests.integration.order.payments import Emulator, checkout
from tests.support import as_member, emulator_admin, eventually, on_free_port, running_app, served_app

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
        httpx.AsyncClient(base_url=psp_url, headers=emulator_admin()) as psp_client,
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
            order.headers.update(as_member(1))  # every order here is member 1's (the helpers' default buyer)
            paid = [await paid_order(order, emulator, [1, 2, 3]) for _ in range(3)]
            unpaid = (await checkout(order, [1]))["orderId"]  # checked out, never paid: NOT_STARTED
            await eventually(
                lambda: scalar(own_infra, "rc_order", "SELECT COUNT(*) FROM payment_events WHERE is_wallet_done = 1"),
                lambda done: done == 3,
                timeout_s=60,
            )
            # money given back through order: product 2's line of the second order, then all of the third
            partly, wholly = paid[1]["orderId"], paid[2]["orderId"]
            answer = await cancel(order, partly, [paid[1]["lines"][2]])
            assert (answer.status_code, answer.json()["status"]) == (200, "PARTIAL_CANCELED"), answer.text
            answer = await cancel(order, wholly)
            assert (answer.status_code, answer.json()["status"]) == (200, "CANCELED"), answer.text
            await eventually(
                lambda: scalar(own_infra, "rc_wallet", "SELECT COUNT(*) FROM wallet_transactions WHERE type = 'DEBIT'"),
                lambda debits: debits == 4,
                timeout_s=60,
            )
        # order and wallet are stopped: no worker heals (or trips over) what the faults below break

        sources = Sources(own_infra, "rc_order", "rc_wallet", psp_url, TEST_SECRET_KEY, lag_bound_s=30)
        findings = await reconcile(sources)
        assert findings.clean, render(findings)
        assert findings.per_seller[1] == {
            **dict.fromkeys(("psp", "success_lines", "ledger", "balance"), 10000),
            "held": 0,
        }
        assert findings.order_counts == {"SUCCESS": 1, "PARTIAL_CANCELED": 1, "CANCELED": 1, "NOT_STARTED": 1}
        assert findings.cancel_counts == {"DONE": 2}
        assert findings.given_back == {
            **dict.fromkeys(("psp_approved", "paid_lines", "credit"), Decimal("18000.00")),
            **dict.fromkeys(("psp_canceled", "canceled_lines", "debit"), Decimal("8000.00")),
        }

        env = {
            **infra_env(own_infra),
            "KIWI_ORDER_DB_NAME": "rc_order",
            "KIWI_WALLET_DB_NAME": "rc_wallet",
            "KIWI_ORDER_TOSS_API_URL": psp_url,
        }
        status, output = await run_reconcile(monkeypatch, env, "--lag-bound", "0")
        assert (status, caught(output)) == (0, []), output

        first = paid[0]["orderId"]
        shop = Shop(own_infra, psp_client, first, partly, unpaid, {p["orderId"]: p["lines"] for p in paid})
        faults = money_faults(shop) + cancel_faults(shop)
        async with served_app(psp_that_cannot_answer_about(first, psp_url)) as failing_psp:
            faults.append(
                Fault(
                    "the PSP cannot be asked about one paid order",
                    lambda: asyncio.sleep(0),
                    lambda: asyncio.sleep(0),
                    # unasked, its approval is missing from seller 1's PSP column too
                    [("psp-unanswered", first), ("seller", seller_line(psp="4000.00"))],
                    psp_url=failing_psp,
                )
            )
            # last: the PSP keeps this cancel, so the shop records it (as a webhook would) instead of an undo
            faults.append(outside_cancel(shop, paid[0]["paymentKey"]))
            for fault in faults:
                await fault.apply()
                try:
                    fault_env = {**env, "KIWI_ORDER_TOSS_API_URL": fault.psp_url or psp_url}
                    status, output = await run_reconcile(monkeypatch, fault_env, "--lag-bound", "0")
                finally:
                    await fault.undo()
                assert (fault.name, status, caught(output)) == (fault.name, 1, fault.expected), output
                assert all(f"DISCREPANCY: {line}" in output.splitlines() for line in fault.lines), output
                assert "MISMATCH" in output or all(check != "seller" for check, _ in fault.expected), output
        status, output = await run_reconcile(monkeypatch, env, "--lag-bound", "0")
        assert (status, caught(output)) == (0, []), output  # every fault undone: clean again
        # (the PSP's cancel of product 1 of the first order, recorded by the shop since: 9,000 left per column)
        assert "given back: the PSP canceled 9,000.00 of 18,000.00 approved; CANCELED lines 9,000.00 of 18,000.00 " \
               "paid; DEBIT 9,000.00, CREDIT 18,000.00" in output, output  # fmt: skip

        # A line canceled while held (its seller had no wallet yet) is released, never credited: no longer held.
        await execute(
            own_infra,
            "rc_wallet",
            "INSERT INTO held_settlements (idempotency_key, order_id, payment_order_no, seller_no, amount, event_id,"
            " created_at, released_at, canceled_at) VALUES ('settle:held-canceled:9004', 'held-canceled', 9004, 1,"
            " 500.00, 9004, UTC_TIMESTAMP(3), UTC_TIMESTAMP(3), UTC_TIMESTAMP(3))",
        )
        status, output = await run_reconcile(monkeypatch, env, "--lag-bound", "0")
        assert (status, caught(output)) == (0, []), output
        assert "held settlements: 0 lines waiting for a wallet (0.00), 1 canceled while held (500.00)" in output

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
        assert caught(output) == [("seller", seller_line("9000.00", balance="9001.00"))]
