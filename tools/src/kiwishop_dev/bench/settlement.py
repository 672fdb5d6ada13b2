"""Settlement: how many paid orders per second the wallet app settles from a backlog, and how long a
PAYMENT_CONFIRM takes from publish to credited at a steady 400 orders/s.

The wallet app runs in-process (its real consumer, relay and database); orders go over 5 sellers with
1–3 lines each. "Credited" is the ``created_at`` (ms) of the order's CREDIT rows, written in the
settling transaction just before it commits; the publish time is taken just before the send.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from decimal import Decimal

from sqlalchemy import text

from kiwishop.contracts.topics import PAYMENT
from kiwishop.platform.db import Database
from kiwishop.platform.envelope import Envelope
from kiwishop.platform.ids import Snowflake
from kiwishop.platform.kafka import KafkaPublisher, OutgoingRecord, ensure_topics
from kiwishop.platform.migrations import migrate
from kiwishop.platform.settings import InfraSettings
from kiwishop.wallet.app import create_app
from kiwishop.wallet.migrations import MIGRATIONS
from kiwishop.wallet.settings import WalletSettings
from kiwishop_dev.bench.report import Report, percentile

SCENARIO = "settlement"
DB_NAME = "bench_wallet"
SELLERS = 5
PACED_RATE = 400.0


class Orders:
    """Makes PAYMENT_CONFIRM records and remembers what each seller must end up with."""

    def __init__(self, ids: Snowflake, sellers: list[int]) -> None:
        self._ids = ids
        self._sellers = sellers
        self._rng = random.Random(7)
        self.expected = dict.fromkeys(sellers, Decimal("0.00"))

    def make(self, order_id: str) -> OutgoingRecord:
        lines = []
        for _ in range(self._rng.randint(1, 3)):
            seller_no, amount = self._rng.choice(self._sellers), Decimal(self._rng.randint(100, 500_000)) / 100
            self.expected[seller_no] += amount
            lines.append(
                {
                    "paymentOrderNo": self._ids.next_id(),
                    "productNo": 1,
                    "sellerNo": seller_no,
                    "productName": "bench",
                    "amount": amount,
                    "status": "SUCCESS",
                }
            )
        total = sum((Decimal(str(line["amount"])) for line in lines), Decimal("0.00"))  # wallet wants the total
        payload = {"orderId": order_id, "paymentOrderList": lines, "totalAmount": total, "paymentDone": True}
        envelope = Envelope(event_id=self._ids.next_id(), type="PAYMENT_CONFIRM", payload=payload, key=order_id)
        return OutgoingRecord(PAYMENT, order_id, envelope.to_json())


async def _credited(db: Database, prefix: str) -> dict[str, float]:
    """order id → epoch seconds its credit rows were written, for orders whose id starts with ``prefix``."""
    async with db.engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT order_id, UNIX_TIMESTAMP(MIN(created_at)) FROM wallet_transactions"
                " WHERE order_id LIKE :p GROUP BY order_id"
            ),
            {"p": f"{prefix}%"},
        )
        return {order_id: float(at) for order_id, at in rows}


async def _wait_for(db: Database, prefix: str, count: int, timeout_s: float = 300) -> dict[str, float]:
    """Poll (cheaply) until ``count`` orders are credited, then read their credit times once."""
    deadline = time.monotonic() + timeout_s
    query = text("SELECT COUNT(DISTINCT order_id) FROM wallet_transactions WHERE order_id LIKE :p")
    while time.monotonic() < deadline:
        async with db.engine.connect() as conn:
            if (await conn.execute(query, {"p": f"{prefix}%"})).scalar_one() >= count:
                break
        await asyncio.sleep(1.0)  # cheap: the credit times come from the rows, not from this poll
    return await _credited(db, prefix)


async def _setup(infra: InfraSettings, ids: Snowflake) -> tuple[Database, list[int]]:
    await migrate(infra, DB_NAME, MIGRATIONS)
    await ensure_topics(infra, [PAYMENT, f"{PAYMENT}.DLT"])
    db = Database.connect(infra, DB_NAME)
    sellers = [ids.next_id() for _ in range(SELLERS)]
    async with db.uow() as uow:
        for seller_no in sellers:
            await uow.conn.execute(
                text(
                    "INSERT INTO wallets (wallet_no, seller_no, balance, version, created_at, updated_at)"
                    " VALUES (:w, :s, 0, 0, UTC_TIMESTAMP(3), UTC_TIMESTAMP(3))"
                ),
                {"w": ids.next_id(), "s": seller_no},
            )
        await uow.commit()
    return db, sellers


async def _burst(publisher: KafkaPublisher, db: Database, orders: Orders, n: int, report: Report) -> None:
    prefix = f"burst-{time.time_ns()}-"
    records = [orders.make(f"{prefix}{i}") for i in range(n)]
    published_at = time.time()
    errors = await publisher.send_many(records)
    assert not any(errors), "publish failed"
    done = await _wait_for(db, prefix, n)
    elapsed = max(done.values()) - published_at
    rate = len(done) / elapsed
    lags = [(at - published_at) * 1000 for at in done.values()]
    label = f"{n:,}-order backlog, {SELLERS} sellers"
    report.add(SCENARIO, f"settled ({label})", rate, "orders/s", ">= 400", rate >= 400 and len(done) == n)
    report.add(SCENARIO, f"publish→credited p99 ({label}, queueing)", percentile(lags, 99), "ms")


async def _paced(publisher: KafkaPublisher, db: Database, orders: Orders, n: int, report: Report) -> None:
    prefix = f"paced-{time.time_ns()}-"
    published: dict[str, float] = {}
    started = time.monotonic()
    for i in range(n):
        record = orders.make(f"{prefix}{i}")
        published[record.key] = time.time()
        await publisher.send(record)
        ahead = started + (i + 1) / PACED_RATE - time.monotonic()
        if ahead > 0:
            await asyncio.sleep(ahead)
    done = await _wait_for(db, prefix, n)
    lags = [(at - published[order_id]) * 1000 for order_id, at in done.items()]
    label = f"{PACED_RATE:.0f} orders/s, {n:,} orders"
    p99 = percentile(lags, 99)
    report.add(SCENARIO, f"publish→credited p50 ({label})", percentile(lags, 50), "ms")
    report.add(SCENARIO, f"publish→credited p99 ({label})", p99, "ms", "< 1000", p99 < 1000 and len(done) == n)


async def _check_balances(db: Database, orders: Orders, report: Report) -> None:
    async with db.engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT seller_no, balance FROM wallets WHERE seller_no IN :s"), {"s": tuple(orders.expected)}
        )
        balances: dict[int, Decimal] = {int(seller_no): amount for seller_no, amount in rows}
    exact = balances == orders.expected
    report.add(SCENARIO, "balances equal the sum of the settled lines", 1.0 if exact else 0.0, "bool", "1", exact)


async def run(infra: InfraSettings, report: Report, quick: bool) -> None:
    ids = Snowflake(902)
    db, sellers = await _setup(infra, ids)
    orders = Orders(ids, sellers)
    settings = WalletSettings(infra=infra, db_name=DB_NAME, node_id=903, settlement_group_id=f"bench-{time.time_ns()}")
    app = create_app(settings)
    publisher = KafkaPublisher(infra)
    try:
        async with app.router.lifespan_context(app):
            warm = orders.make(f"warm-{time.time_ns()}")
            await publisher.send(warm)
            await _wait_for(db, warm.key, 1, timeout_s=60)  # the consumer group has joined
            await _burst(publisher, db, orders, 2_000 if quick else 10_000, report)
            await _paced(publisher, db, orders, 400 if quick else 4_000, report)
            await _check_balances(db, orders, report)
        # Other work on the machine slows this down: say how busy it was.
        report.add(SCENARIO, "1-minute load average after the run (context)", os.getloadavg()[0], "")
    finally:
        await publisher.close()
        await db.close()
