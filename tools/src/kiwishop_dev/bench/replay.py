"""The database's own limit for a payment's SQL: the statements the payment path runs, replayed straight
against MariaDB — no services, no HTTP, no broker, no SQLAlchemy — with the same concurrency as the load.

One replayed payment (statements as the services send them, taken from MariaDB's general log):

1. catalog: the product lookup (``SELECT … FROM products WHERE product_no IN …``);
2. checkout tx: ``INSERT payment_events``, ``INSERT payment_orders`` (all lines), ``INSERT
   payment_order_histories``, ``COMMIT``;
3. confirm tx1: ``SELECT … FOR UPDATE`` on the event, the event+lines ``SELECT``, ``UPDATE payment_orders``
   (→ EXECUTING, guarded), history rows, ``UPDATE payment_events`` (paymentKey), ``COMMIT``;
4. confirm tx2: ``SELECT … FOR UPDATE``, ``UPDATE payment_orders`` (→ SUCCESS), history rows, ``UPDATE
   payment_events``, ``INSERT outbox`` (PAYMENT_CONFIRM), ``COMMIT``;
5. wallet settlement tx: ``INSERT IGNORE processed_messages``, ``INSERT outbox`` (WALLET_SETTLED), the wallet
   lookup (``SELECT … FOR UPDATE`` ∪ credited keys), ``INSERT wallet_transactions``, the one-statement
   balance ``UPDATE`` with its version check, ``COMMIT``;
6. order's WALLET_SETTLED tx: ``INSERT IGNORE processed_messages``, ``UPDATE payment_events SET
   is_wallet_done = 1``, ``COMMIT``.

Meanwhile one relay per outbox claims due rows (``FOR UPDATE SKIP LOCKED``, lease ``UPDATE``, ``COMMIT``)
and marks them ``SUCCESS`` — as the services' relays do, in batches. The schemas are private copies
(``bench_replay_*``), so nothing here shows up in the shop's reconciliation.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import random
import time
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import asyncmy

from kiwishop.order.app import SERVICE as ORDER
from kiwishop.platform.ids import Snowflake
from kiwishop.platform.migrations import migrate
from kiwishop.platform.settings import InfraSettings
from kiwishop.wallet.app import SERVICE as WALLET
from kiwishop.wallet.domain import SUCCESS, LockedWallet, PaymentLine, credit_key, totals_by_seller
from kiwishop.wallet.repository import (
    INSERT_CREDITS,
    INSERT_WALLET,
    LOOKUP,
    balance_params,
    credit_rows,
    update_balances,
)
from kiwishop_dev.bench.dbapi import execute_many, sql
from kiwishop_dev.bench.load import Product
from kiwishop_dev.bench.profiling import cpu_seconds, own_cpu_seconds

ORDER_DB, WALLET_DB, CATALOG_DB = "bench_replay_order", "bench_replay_wallet", "payment_msa_v2_catalog"
EVENT_COLUMNS = (
    "e.payment_event_no, e.member_no, e.is_payment_done, e.is_wallet_done, e.payment_key, e.order_id, e.type, "
    "e.order_name, e.method, e.total_amount, e.approved_at, e.failure_code, e.failure_message, e.created_at, "
    "e.updated_at, o.payment_order_no, o.product_no, o.seller_no, o.product_name, o.amount, "
    "o.payment_order_status, o.failed_count, o.threshold, o.updated_at"
)
OUTBOX_INSERT = (
    "INSERT INTO outbox (outbox_no, event_id, event_type, topic, message_key, idempotency_key, status, attempts, "
    "next_attempt_at, payload, created_at, updated_at) VALUES (%s, %s, %s, %s, %s, %s, 'INIT', 0, %s, %s, %s, %s)"
)


@dataclass(frozen=True)
class ReplayResult:
    payments: int
    seconds: float
    concurrency: int
    db_cpu_s: float = 0.0  # mariadbd's CPU seconds during the replay
    client_cpu_s: float = 0.0  # this (replaying) process's

    def per_payment_ms(self, cpu_s: float) -> float:
        return cpu_s / self.payments * 1000 if self.payments else 0.0

    @property
    def rate(self) -> float:
        return self.payments / self.seconds if self.seconds else 0.0


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _values(rows: int, columns: int) -> str:
    one = "(" + ", ".join(["%s"] * columns) + ")"
    return ", ".join([one] * rows)


class Replayer:
    def __init__(self, infra: InfraSettings, products: list[Product], wallets: dict[int, int]) -> None:
        self._infra = infra
        self._products = products
        self._wallets = wallets  # seller number → wallet number in the replay's wallet schema
        self._ids = Snowflake(1001)
        self._rng = random.Random(11)
        self._stopping = asyncio.Event()
        self.done = 0

    @classmethod
    async def prepare(cls, infra: InfraSettings, products: list[Product]) -> Replayer:
        await migrate(infra, ORDER_DB, ORDER.migrations)
        await migrate(infra, WALLET_DB, WALLET.migrations)
        ids = Snowflake(1002)
        wallets = {seller: ids.next_id() for seller in sorted({p.seller_no for p in products})}
        conn = await cls._connect(infra, WALLET_DB)
        try:
            now = _now()
            rows = [
                {"wallet_no": wallet, "seller_no": seller, "balance": 0, "version": 0, "created_at": now,
                 "updated_at": now}
                for seller, wallet in wallets.items()
            ]  # fmt: skip
            async with conn.cursor() as cur:
                await execute_many(cur, INSERT_WALLET, rows)
            await conn.commit()
        finally:
            conn.close()
        return cls(infra, products, wallets)

    @staticmethod
    async def _connect(infra: InfraSettings, db: str) -> Any:
        return await asyncmy.connect(
            host=infra.db_host, port=infra.db_port, user=infra.db_user, password=infra.db_password.get_secret_value(),
            database=db, charset="utf8mb4", autocommit=False, init_command="SET time_zone = '+00:00'",
        )  # fmt: skip

    async def run(self, concurrency: int, duration_s: float, db_pid: int | None = None) -> ReplayResult:
        self._stopping.clear()
        db_cpu, client_cpu = cpu_seconds(db_pid), own_cpu_seconds()
        relays = [asyncio.create_task(self._relay(db)) for db in (ORDER_DB, WALLET_DB)]
        started = time.monotonic()
        self.done = 0
        workers = [asyncio.create_task(self._worker(started + duration_s)) for _ in range(concurrency)]
        await asyncio.gather(*workers)
        elapsed = time.monotonic() - started
        self._stopping.set()
        await asyncio.gather(*relays)
        db_cpu, client_cpu = cpu_seconds(db_pid) - db_cpu, own_cpu_seconds() - client_cpu
        return ReplayResult(self.done, elapsed, concurrency, db_cpu, client_cpu)

    async def _worker(self, until: float) -> None:
        conns = {db: await self._connect(self._infra, db) for db in (CATALOG_DB, ORDER_DB, WALLET_DB)}
        try:
            while time.monotonic() < until:
                await self._payment(conns)
                self.done += 1
        finally:
            for conn in conns.values():
                conn.close()

    async def _payment(self, conns: dict[str, Any]) -> None:
        chosen = sorted(self._rng.sample(self._products, self._rng.randint(1, min(3, len(self._products)))),
                        key=lambda p: p.product_no)  # fmt: skip
        order_id = str(uuid.uuid4())
        async with conns[CATALOG_DB].cursor() as cur:
            marks = ", ".join(["%s"] * len(chosen))
            await cur.execute(
                "SELECT product_no, seller_no, product_id, name, price FROM products "
                f"WHERE product_no IN ({marks}) ORDER BY product_no",
                [p.product_no for p in chosen],
            )
            await cur.fetchall()
        await conns[CATALOG_DB].rollback()
        lines = [(self._ids.next_id(), p) for p in chosen]
        event_no, total = self._ids.next_id(), sum((p.price for p in chosen), Decimal("0.00"))
        conn = conns[ORDER_DB]
        await self._checkout(conn, order_id, event_no, total, lines)
        key = f"tgen_{uuid.uuid4().hex[:24]}"
        await self._confirm_tx1(conn, order_id, key, lines)
        payload = await self._confirm_tx2(conn, order_id, event_no, key, total, lines)
        settled = await self._settle(conns[WALLET_DB], order_id, payload, lines)
        async with conn.cursor() as cur:
            await cur.execute(
                "INSERT IGNORE INTO processed_messages (consumer, event_id, event_type) VALUES (%s, %s, %s)",
                ("order-wallet-result", settled, "WALLET_SETTLED"),
            )
            await cur.execute(
                "UPDATE payment_events SET is_wallet_done=1 WHERE order_id = %s AND is_payment_done IS true",
                (order_id,),
            )
        await conn.commit()

    async def _checkout(
        self, conn: Any, order_id: str, event_no: int, total: Decimal, lines: list[tuple[int, Product]]
    ) -> None:
        now = _now()
        async with conn.cursor() as cur:
            await cur.execute(
                "INSERT INTO payment_events (payment_event_no, member_no, is_payment_done, is_wallet_done, order_id, "
                "type, order_name, method, total_amount, created_at, updated_at) "
                "VALUES (%s, %s, 0, 0, %s, 'NORMAL', %s, 'CARD', %s, %s, %s)",
                (event_no, self._rng.randint(1, 1000), order_id, "상품 그외", total, now, now),
            )
            rows: list[Any] = []
            for no, p in lines:
                rows += [
                    no,
                    event_no,
                    p.product_no,
                    p.seller_no,
                    order_id,
                    "상품",
                    p.price,
                    "NOT_STARTED",
                    0,
                    5,
                    now,
                    now,
                ]
            await cur.execute(
                "INSERT INTO payment_orders (payment_order_no, payment_event_no, product_no, seller_no, order_id, "
                "product_name, amount, payment_order_status, failed_count, threshold, created_at, updated_at) "
                f"VALUES {_values(len(lines), 12)}",
                rows,
            )
            await self._history(cur, lines, None, "NOT_STARTED", "CHECKOUT", now)
        await conn.commit()

    async def _history(
        self, cur: Any, lines: list[tuple[int, Product]], prev: str | None, new: str, reason: str, now: dt.datetime
    ) -> None:
        rows: list[Any] = []
        for no, _ in lines:
            rows += [self._ids.next_id(), no, prev, new, now, now, "api", reason]
        await cur.execute(
            "INSERT INTO payment_order_histories (payment_order_history_no, payment_order_no, previous_status, "
            f"new_status, created_at, updated_at, changed_by, reason) VALUES {_values(len(lines), 8)}",
            rows,
        )

    async def _move(
        self, cur: Any, order_id: str, lines: list[tuple[int, Product]], prev: str, new: str, reason: str
    ) -> dt.datetime:
        now = _now()
        await cur.execute("SELECT payment_event_no FROM payment_events WHERE order_id = %s FOR UPDATE", (order_id,))
        await cur.fetchall()
        await cur.execute(
            "UPDATE payment_orders SET payment_order_status=%s, updated_at=%s "
            "WHERE order_id = %s AND payment_order_status = %s",
            (new, now, order_id, prev),
        )
        await self._history(cur, lines, prev, new, reason, now)
        return now

    async def _confirm_tx1(self, conn: Any, order_id: str, key: str, lines: list[tuple[int, Product]]) -> None:
        async with conn.cursor() as cur:
            await cur.execute(
                f"SELECT {EVENT_COLUMNS} FROM payment_events e JOIN payment_orders o "
                "ON o.payment_event_no = e.payment_event_no WHERE e.order_id = %s "
                "ORDER BY e.payment_event_no, o.payment_order_no",
                (order_id,),
            )
            await cur.fetchall()
            now = await self._move(cur, order_id, lines, "NOT_STARTED", "EXECUTING", "CONFIRM_STARTED")
            await cur.execute(
                "UPDATE payment_events SET payment_key=%s, updated_at=%s WHERE order_id = %s", (key, now, order_id)
            )
        await conn.commit()

    async def _confirm_tx2(
        self, conn: Any, order_id: str, event_no: int, key: str, total: Decimal, lines: list[tuple[int, Product]]
    ) -> dict[str, Any]:
        payload = {
            "paymentEventNo": event_no, "orderId": order_id, "paymentKey": key, "totalAmount": str(total),
            "paymentOrderList": [
                {"paymentOrderNo": no, "productNo": p.product_no, "sellerNo": p.seller_no, "amount": str(p.price),
                 "status": "SUCCESS"} for no, p in lines
            ],
            "paymentDone": True,
        }  # fmt: skip
        async with conn.cursor() as cur:
            now = await self._move(cur, order_id, lines, "EXECUTING", "SUCCESS", "PSP_APPROVED")
            await cur.execute(
                "UPDATE payment_events SET is_payment_done=1, approved_at=%s, failure_code=NULL, "
                "failure_message=NULL, updated_at=%s WHERE order_id = %s",
                (now.replace(microsecond=0), now, order_id),
            )
            event_id = self._ids.next_id()
            envelope = json.dumps({"eventId": event_id, "type": "PAYMENT_CONFIRM", "payload": payload})
            await cur.execute(OUTBOX_INSERT, (
                self._ids.next_id(), event_id, "PAYMENT_CONFIRM", "kiwi-shop-payment", order_id,
                f"PAYMENT_CONFIRM:{order_id}", now, envelope, now, now,
            ))  # fmt: skip
        await conn.commit()
        return {"eventId": event_id, **payload}

    async def _settle(self, conn: Any, order_id: str, confirm: dict[str, Any], lines: list[tuple[int, Product]]) -> int:
        """The wallet's settlement transaction, with wallet's own statements; returns the WALLET_SETTLED event id."""
        now = _now()
        paid = [PaymentLine(no, p.seller_no, p.price, SUCCESS) for no, p in lines]
        totals = totals_by_seller(paid)
        keys = [credit_key(order_id, line.payment_order_no) for line in paid]
        settled_id = self._ids.next_id()
        async with conn.cursor() as cur:
            await cur.execute(
                "INSERT IGNORE INTO processed_messages (consumer, event_id, event_type) VALUES (%s, %s, %s)",
                ("wallet-settlement", confirm["eventId"], "PAYMENT_CONFIRM"),
            )
            body = json.dumps(
                {
                    "eventId": settled_id,
                    "type": "WALLET_SETTLED",
                    "payload": {
                        "orderId": order_id,
                        "sellers": [{"sellerNo": s, "amount": str(a)} for s, a in totals.items()],
                    },
                }
            )
            await cur.execute(OUTBOX_INSERT, (
                self._ids.next_id(), settled_id, "WALLET_SETTLED", "kiwi-shop-wallet", order_id,
                f"wallet-settled:{confirm['eventId']}", now, body, now, now,
            ))  # fmt: skip
            await cur.execute(*sql(LOOKUP, {"sellers": sorted(totals), "keys": keys}))
            found = {
                int(row[0]): LockedWallet(int(row[1]), int(row[2]))
                for row in await cur.fetchall()
                if row[0] is not None
            }
            await execute_many(cur, INSERT_CREDITS, credit_rows(self._ids, order_id, paid, self._wallets, now))
            await cur.execute(*sql(update_balances(len(totals)), balance_params(totals, found, now)))
        await conn.commit()
        return settled_id

    async def _relay(self, db: str) -> None:
        """Claim due outbox rows with a lease, then mark them published — the services' relay statements."""
        conn = await self._connect(self._infra, db)
        try:
            while not self._stopping.is_set():
                now = _now()
                async with conn.cursor() as cur:
                    await cur.execute(
                        "SELECT outbox_no, topic, message_key, payload, attempts FROM outbox WHERE status = 'INIT' "
                        "AND next_attempt_at <= %s ORDER BY next_attempt_at, outbox_no LIMIT 500 "
                        "FOR UPDATE SKIP LOCKED",
                        (now,),
                    )
                    claimed = [row[0] for row in await cur.fetchall()]
                    if claimed:
                        marks = ", ".join(["%s"] * len(claimed))
                        await cur.execute(
                            f"UPDATE outbox SET next_attempt_at=%s, updated_at=%s WHERE outbox_no IN ({marks})",
                            [now + dt.timedelta(seconds=30), now, *claimed],
                        )
                    await conn.commit()
                    if claimed:
                        await cur.execute(
                            "UPDATE outbox SET status='SUCCESS', attempts=(attempts + 1), last_error=NULL, "
                            f"updated_at=%s, published_at=%s WHERE outbox_no IN ({marks})",
                            [now, now, *claimed],
                        )
                        await conn.commit()
                if not claimed:
                    await asyncio.sleep(0.005)
        finally:
            conn.close()
