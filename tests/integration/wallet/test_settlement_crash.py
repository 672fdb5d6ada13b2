"""1,000 paid orders over 5 sellers while the wallet *process* is killed (-9) and restarted twice."""

from __future__ import annotations

import os
import random
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import pytest

from kiwishop.contracts.topics import WALLET
from kiwishop.platform.db import Database
from kiwishop.platform.envelope import Envelope
from kiwishop.platform.kafka import KafkaPublisher
from kiwishop.platform.settings import InfraSettings
from kiwishop_dev.devstack.procs import ManagedProcess, free_port
from tests.integration.seller_wallet.support import (
    IDS,
    WALLET_DB,
    add_wallet,
    decoded,
    outbox_drained,
    payment_confirm,
    publish_orders,
    rows,
    scalar,
)
from tests.support import eventually, read_to_end, unique

ORDERS = 1000


def wallet_env(infra: InfraSettings) -> dict[str, str]:
    return {
        **os.environ,
        "KIWI_DB_HOST": infra.db_host,
        "KIWI_DB_PORT": str(infra.db_port),
        "KIWI_DB_USER": infra.db_user,
        "KIWI_DB_PASSWORD": infra.db_password.get_secret_value(),
        "KIWI_REDIS_URL": infra.redis_url,
        "KIWI_KAFKA_BOOTSTRAP_SERVERS": infra.kafka_bootstrap_servers,
        "KIWI_KAFKA_SESSION_TIMEOUT_MS": "2000",
        "KIWI_KAFKA_HEARTBEAT_INTERVAL_MS": "500",
        "KIWI_KAFKA_REQUEST_TIMEOUT_MS": "5000",
        "KIWI_LOG_JSON": "false",
        "KIWI_LOG_LEVEL": "WARNING",
        "KIWI_WALLET_DB_NAME": WALLET_DB,
        "KIWI_WALLET_PORT": str(free_port()),
        "KIWI_WALLET_NODE_ID": "110",
        "KIWI_WALLET_CONSUMER_RETRY_BACKOFF_S": "[0.05, 0.1, 0.2]",
        "KIWI_WALLET_OUTBOX_LEASE_S": "2",
    }


@contextmanager
def wallet_process(infra: InfraSettings, logs: Path) -> Iterator[ManagedProcess]:
    proc = ManagedProcess("wallet", [sys.executable, "-m", "kiwishop", "serve", "wallet"], logs, wallet_env(infra))
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


def paid_orders(sellers: list[int]) -> tuple[list[Envelope], dict[int, Decimal], int]:
    """ORDERS orders of 1–3 SUCCESS lines over the sellers; what each seller must end with; the line count."""
    rng = random.Random(5)
    expected = dict.fromkeys(sellers, Decimal("0.00"))
    events, lines_total = [], 0
    for _ in range(ORDERS):
        lines = [(IDS.next_id(), rng.choice(sellers), f"{rng.randint(1, 500_000) / 100:.2f}", "SUCCESS")]
        lines += [(IDS.next_id(), rng.choice(sellers), "0.01", "SUCCESS") for _ in range(rng.randint(0, 2))]
        for _, seller_no, amount, _ in lines:
            expected[seller_no] += Decimal(amount)
        lines_total += len(lines)
        events.append(payment_confirm(unique("crash"), lines))
    return events, expected, lines_total


@pytest.mark.slow
async def test_every_balance_is_exact_after_the_wallet_process_is_killed_twice_while_settling(
    infra: InfraSettings, wallet_db: Database, publisher: KafkaPublisher, tmp_path: Path
) -> None:
    sellers = [IDS.next_id() for _ in range(5)]
    wallets = {s: await add_wallet(wallet_db, s) for s in sellers}
    events, expected, lines_total = paid_orders(sellers)
    wallet_nos = tuple(wallets.values())

    async def credited_orders() -> int:
        sql = "SELECT COUNT(DISTINCT order_id) FROM wallet_transactions WHERE wallet_no IN :w"
        return int(await scalar(wallet_db, sql, w=wallet_nos))

    with wallet_process(infra, tmp_path / "wallet.log") as proc:
        await publish_orders(publisher, events)
        at_kill = []
        for threshold in (100, 450):
            at_kill.append(await eventually(credited_orders, lambda n, t=threshold: n >= t, timeout_s=60))
            proc.kill()  # SIGKILL: no shutdown, no offset commit, open transactions rolled back
            proc.start()
        assert all(n < ORDERS for n in at_kill), f"settlement finished before the kills: {at_kill}"
        print(f"killed at {at_kill} settled orders")
        await eventually(credited_orders, lambda n: n == ORDERS, timeout_s=120)
        await eventually(lambda: outbox_drained(wallet_db), bool, timeout_s=60)  # incl. rows a killed relay leased
    found = await rows(wallet_db, "SELECT seller_no, balance FROM wallets WHERE seller_no IN :s", s=tuple(sellers))
    assert {r.seller_no: r.balance for r in found} == expected
    counted = await rows(
        wallet_db,
        "SELECT COUNT(*) AS n, COUNT(DISTINCT idempotency_key) AS distinct_keys"
        " FROM wallet_transactions WHERE wallet_no IN :w",
        w=wallet_nos,
    )
    assert (counted[0].n, counted[0].distinct_keys) == (lines_total, lines_total)
    order_ids = {e.key for e in events}
    results = decoded(await read_to_end(infra, WALLET))  # the outbox is drained: every result was acknowledged
    settled = {e.payload["orderId"] for e in results if e.type == "WALLET_SETTLED"}
    assert order_ids <= settled
