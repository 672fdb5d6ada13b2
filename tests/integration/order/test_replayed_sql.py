"""The benchmark's DB-limit replay sends the services' own SQL: every statement it replays for one payment is
one that catalog, order (checkout, both confirm transactions, its relay, the WALLET_SETTLED effect) and
wallet (settlement) sent for a real payment — so a change to the services' SQL can't leave the replay
measuring something else."""

from __future__ import annotations

import random
import re
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from decimal import Decimal
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Engine

from kiwishop.order.app import create_app
from kiwishop.order.consumers import wallet_result_handlers
from kiwishop.order.settings import OrderSettings
from kiwishop.order.store import SqlPaymentStore
from kiwishop.platform import driver_sql
from kiwishop.platform.db import Database
from kiwishop.platform.envelope import Envelope
from kiwishop.platform.ids import Snowflake
from kiwishop.platform.migrations import migrate
from kiwishop.platform.outbox import Outbox
from kiwishop.platform.settings import InfraSettings
from kiwishop.wallet.app import SERVICE as WALLET
from kiwishop.wallet.handlers import settle
from kiwishop.wallet.repository import SqlLedger
from kiwishop_dev.bench.load import Product
from kiwishop_dev.bench.replay import connect, prepare_schemas, relay_once
from kiwishop_dev.bench.replay_payment import CATALOG_DB, ORDER_DB, WALLET_DB, PaymentReplay
from tests.integration.order.payments import Emulator, checkout, confirm
from tests.integration.seller_wallet.support import add_wallet
from tests.support import eventually, running_app, unique

IDS = Snowflake(131)
WALLET_SCHEMA = "it_replayed_sql_wallet"
CATALOG_SCHEMA = "it_order_catalog"  # the order tests' catalog (conftest)


def shape(statement: str) -> str:
    """A statement's text with its ``IN`` lists of any length alike."""
    return re.sub(r"\(%s(?:, %s)*\)", "(%s…)", " ".join(statement.split()))


@contextmanager
def services_sql() -> Iterator[set[str]]:
    """Every statement sent in this process meanwhile (the services run in it): by SQLAlchemy, and straight
    through the driver by ``UnitOfWork.run`` / ``run_many`` (``driver_sql``)."""
    sent: set[str] = set()

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        sent.add(shape(statement))

    def noting(build: Callable[..., tuple[str, Any]]) -> Callable[..., tuple[str, Any]]:
        def built(*args: Any) -> tuple[str, Any]:
            statement, params = build(*args)
            sent.add(shape(statement))
            return statement, params

        return built

    originals = driver_sql.sql, driver_sql.many
    event.listen(Engine, "before_cursor_execute", record)
    driver_sql.sql, driver_sql.many = noting(driver_sql.sql), noting(driver_sql.many)  # type: ignore[assignment]
    try:
        yield sent
    finally:
        driver_sql.sql, driver_sql.many = originals  # type: ignore[assignment]
        event.remove(Engine, "before_cursor_execute", record)


class RecordingConnection:
    """A driver connection whose cursors note the statements they execute."""

    def __init__(self, conn: Any, sent: set[str]) -> None:
        self._conn, self._sent = conn, sent

    @asynccontextmanager
    async def cursor(self) -> AsyncIterator[Any]:
        async with self._conn.cursor() as cur:
            yield RecordingCursor(cur, self._sent)

    async def commit(self) -> None:
        await self._conn.commit()

    async def rollback(self) -> None:
        await self._conn.rollback()


class RecordingCursor:
    def __init__(self, cur: Any, sent: set[str]) -> None:
        self._cur, self._sent = cur, sent

    async def execute(self, statement: str, args: Any = None) -> Any:
        self._sent.add(shape(statement))
        return await self._cur.execute(statement, args)

    async def executemany(self, statement: str, args: Any) -> Any:
        self._sent.add(shape(statement))
        return await self._cur.executemany(statement, args)

    async def fetchall(self) -> Any:
        return await self._cur.fetchall()


async def outbox_envelope(db: Database, idempotency_key: str) -> Envelope:
    async with db.engine.connect() as conn:
        row = (
            await conn.execute(
                text("SELECT message_key, payload FROM outbox WHERE idempotency_key = :k"), {"k": idempotency_key}
            )
        ).one()
    return Envelope.from_record(row.message_key.encode(), row.payload.encode())


async def published(db: Database, idempotency_key: str) -> str:
    async with db.engine.connect() as conn:
        found = await conn.execute(text("SELECT status FROM outbox WHERE idempotency_key = :k"), {"k": idempotency_key})
        return str(found.scalar_one())


async def test_the_replay_sends_only_statements_the_services_sent_for_a_real_payment(
    order_settings: Callable[..., OrderSettings],
    emulator_url: str,
    emulator: Emulator,
    order_db: Database,
    infra: InfraSettings,
) -> None:
    await migrate(infra, WALLET_SCHEMA, WALLET.migrations)
    wallet_db = Database.connect(infra, WALLET_SCHEMA)
    try:
        with services_sql() as services:
            async with running_app(create_app(order_settings(toss_api_url=emulator_url))) as order:
                created = await checkout(order, [1])  # one line: the replay's payment is alike
                order_id = created["orderId"]
                key = await emulator.authorise(order_id, created["amount"])
                assert (await confirm(order, key, order_id, created["amount"])).status_code == 200
                confirm_key = f"PAYMENT_CONFIRM:{order_id}"
                await eventually(lambda: published(order_db, confirm_key), lambda s: s == "SUCCESS", timeout_s=20)
            paid = await outbox_envelope(order_db, confirm_key)
            lines = paid.payload["paymentOrderList"]
            for seller_no in {int(line["sellerNo"]) for line in lines}:
                await add_wallet(wallet_db, seller_no)
            ledger = SqlLedger(wallet_db, Outbox(IDS), IDS)
            await settle(ledger, paid)
            settled = await outbox_envelope(wallet_db, f"wallet-settled:{paid.event_id}")
            store = SqlPaymentStore(order_db, IDS, Outbox(IDS), topic=unique("unused"))
            await next(iter(wallet_result_handlers(order_db, store).values()))(settled)
        assert (await published(order_db, confirm_key)) == "SUCCESS"

        replayed: set[str] = set()
        products = [Product(int(x["productNo"]), int(x["sellerNo"]), Decimal(str(x["amount"]))) for x in lines]
        wallets = await prepare_schemas(infra, products)
        raw = {CATALOG_DB: CATALOG_SCHEMA, ORDER_DB: ORDER_DB, WALLET_DB: WALLET_DB}
        conns = {name: await connect(infra, db) for name, db in raw.items()}
        try:
            recording = {name: RecordingConnection(conn, replayed) for name, conn in conns.items()}
            await PaymentReplay(products, wallets, Snowflake(132), random.Random(1))(recording)
            for name in (ORDER_DB, WALLET_DB):
                assert await relay_once(RecordingConnection(conns[name], replayed)) >= 1
        finally:
            for conn in conns.values():
                conn.close()
    finally:
        await wallet_db.close()

    assert len(replayed) >= 18, sorted(replayed)  # the whole payment: catalog, checkout, confirm, wallet, relay
    assert replayed - services == set(), "the replay sends SQL the services don't"
