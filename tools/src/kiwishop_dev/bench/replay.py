"""The database's own limit for a payment's SQL: the statements the payment path runs, replayed straight
against MariaDB — no services, no HTTP, no broker, no SQLAlchemy at run time — with the same concurrency as
the load. One replayed payment is ``replay_payment.PaymentReplay`` (the services' own statements).

Meanwhile one relay per outbox claims due rows with the services' relay statements (``FOR UPDATE SKIP
LOCKED``, the lease ``UPDATE``, ``COMMIT``) and marks them published, in batches as the services do. The
order and wallet schemas are private copies (``bench_replay_*``), so nothing here shows up in the shop's
reconciliation.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import time
from dataclasses import dataclass
from typing import Any

import asyncmy

from kiwishop.order.app import SERVICE as ORDER
from kiwishop.platform import relay
from kiwishop.platform.clock import utcnow
from kiwishop.platform.ids import Snowflake
from kiwishop.platform.migrations import migrate
from kiwishop.platform.settings import InfraSettings, ServiceSettings
from kiwishop.wallet.app import SERVICE as WALLET
from kiwishop.wallet.repository import INSERT_WALLET
from kiwishop_dev.bench.dbapi import execute_many, run
from kiwishop_dev.bench.load import Product
from kiwishop_dev.bench.profiling import cpu_seconds, own_cpu_seconds
from kiwishop_dev.bench.replay_payment import CATALOG_DB, ORDER_DB, WALLET_DB, PaymentReplay

RELAY_BATCH = ServiceSettings.model_fields["outbox_batch_size"].default
RELAY_LEASE_S = ServiceSettings.model_fields["outbox_lease_s"].default


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


async def connect(infra: InfraSettings, db: str) -> Any:
    """A driver connection as the services' engine opens it (UTC session, no autocommit)."""
    return await asyncmy.connect(
        host=infra.db_host, port=infra.db_port, user=infra.db_user, password=infra.db_password.get_secret_value(),
        database=db, charset="utf8mb4", autocommit=False, init_command="SET time_zone = '+00:00'",
    )  # fmt: skip


async def flush_log_at_trx_commit(infra: InfraSettings, value: int | None = None) -> int:
    """MariaDB's ``innodb_flush_log_at_trx_commit`` (a global, dynamic setting); set to ``value`` first if given.
    Returns the value it had before."""
    conn = await connect(infra, "mysql")
    try:
        async with conn.cursor() as cur:
            await cur.execute("SELECT @@GLOBAL.innodb_flush_log_at_trx_commit")
            (before,) = await cur.fetchone()
            if value is not None:
                await cur.execute(f"SET GLOBAL innodb_flush_log_at_trx_commit = {int(value)}")
        return int(before)
    finally:
        conn.close()


async def prepare_schemas(infra: InfraSettings, products: list[Product]) -> dict[int, int]:
    """The replay's order and wallet schemas, with a wallet per seller; returns seller → wallet number."""
    await migrate(infra, ORDER_DB, ORDER.migrations)
    await migrate(infra, WALLET_DB, WALLET.migrations)
    ids = Snowflake(1002)
    wallets = {seller: ids.next_id() for seller in sorted({p.seller_no for p in products})}
    conn = await connect(infra, WALLET_DB)
    try:
        now = utcnow()
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
    return wallets


class Replayer:
    def __init__(self, infra: InfraSettings, products: list[Product], wallets: dict[int, int]) -> None:
        self._infra = infra
        self._payment = PaymentReplay(products, wallets, Snowflake(1001), random.Random(11))
        self._stopping = asyncio.Event()
        self.done = 0

    @classmethod
    async def prepare(cls, infra: InfraSettings, products: list[Product]) -> Replayer:
        return cls(infra, products, await prepare_schemas(infra, products))

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
        conns = {db: await connect(self._infra, db) for db in (CATALOG_DB, ORDER_DB, WALLET_DB)}
        try:
            while time.monotonic() < until:
                await self._payment(conns)
                self.done += 1
        finally:
            for conn in conns.values():
                conn.close()

    async def _relay(self, db: str) -> None:
        """Claim due outbox rows with a lease, then mark them published — the services' relay statements."""
        conn = await connect(self._infra, db)
        try:
            while not self._stopping.is_set():
                if not await relay_once(conn):
                    await asyncio.sleep(0.005)
        finally:
            conn.close()


async def relay_once(conn: Any) -> int:
    """One relay pass (``OutboxRelay._claim`` then ``_record``) without the broker; returns rows marked."""
    now = utcnow()
    async with conn.cursor() as cur:
        await run(cur, relay.CLAIM, relay.claim_params(now, RELAY_BATCH))
        claimed = [row[0] for row in await cur.fetchall()]
        if claimed:
            lease = now + dt.timedelta(seconds=RELAY_LEASE_S)
            await run(cur, relay.LEASE, relay.lease_params(claimed, lease, now))
        await conn.commit()
        if claimed:
            await run(cur, relay.PUBLISHED, relay.published_params(claimed, utcnow()))
            await conn.commit()
    return len(claimed)
