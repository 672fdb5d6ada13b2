"""Shared by the seller, wallet and seller↔wallet integration tests: settings, schemas, events, probes.

Every test of these folders uses the same two schemas and the services' real topics and consumer groups
(only one instance of an app runs at a time unless a test says otherwise); tests stay apart by unique
sellerIds, seller numbers and order ids, never by sleeping.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

import httpx
from aiokafka import ConsumerRecord
from sqlalchemy import text

from kiwishop.contracts.topics import PAYMENT
from kiwishop.platform.db import Database
from kiwishop.platform.envelope import Envelope
from kiwishop.platform.ids import Snowflake
from kiwishop.platform.kafka import KafkaPublisher, OutgoingRecord
from kiwishop.platform.migrations import migrate
from kiwishop.platform.settings import InfraSettings
from kiwishop.seller.app import SERVICE as SELLER_SERVICE
from kiwishop.seller.settings import SellerSettings
from kiwishop.wallet.app import SERVICE as WALLET_SERVICE
from kiwishop.wallet.settings import WalletSettings
from tests import payloads
from tests.payloads import ConfirmLine
from tests.support import as_member, as_seller

SELLER_DB = "it_seller"
WALLET_DB = "it_wallet"
FAST_RETRIES = (0.05, 0.1, 0.2)
IDS = Snowflake(990)  # event ids, seller and wallet numbers made up by the tests

Line = tuple[int, int, str, str]  # paymentOrderNo, sellerNo, amount, status


def seller_settings(infra: InfraSettings, **overrides: Any) -> SellerSettings:
    values: dict[str, Any] = {
        "infra": infra,
        "db_name": SELLER_DB,
        "node_id": 103,
        "consumer_retry_backoff_s": FAST_RETRIES,
        "registration_timeout_s": 5.0,
        "registration_max_attempts": 5,
        "sweep_interval_s": 0.1,
    }
    return SellerSettings(**(values | overrides))


def wallet_settings(infra: InfraSettings, **overrides: Any) -> WalletSettings:
    values: dict[str, Any] = {
        "infra": infra,
        "db_name": WALLET_DB,
        "node_id": 102,
        "consumer_retry_backoff_s": FAST_RETRIES,
    }
    return WalletSettings(**(values | overrides))


async def migrate_seller(infra: InfraSettings, name: str = SELLER_DB) -> None:
    await migrate(infra, name, SELLER_SERVICE.migrations, SELLER_SERVICE.seed)


async def migrate_wallet(infra: InfraSettings, name: str = WALLET_DB) -> None:
    await migrate(infra, name, WALLET_SERVICE.migrations, WALLET_SERVICE.seed)


@asynccontextmanager
async def database(infra: InfraSettings, name: str) -> AsyncIterator[Database]:
    db = Database.connect(infra, name)
    try:
        yield db
    finally:
        await db.close()


def exact(response: httpx.Response) -> Any:
    return json.loads(response.content, parse_float=Decimal)


def payment_confirm(order_id: str, lines: Iterable[Line], *, event_id: int | None = None, **extra: Any) -> Envelope:
    """PAYMENT_CONFIRM of an order with these lines, as order builds it (tests/payloads.py); ``extra`` replaces
    payload fields on purpose."""
    order_lines = [
        ConfirmLine(no, seller_no, amount, status, product_name="상품") for no, seller_no, amount, status in lines
    ]
    return payloads.payment_confirm(order_id, order_lines, event_id=event_id or IDS.next_id(), **extra)


def payment_canceled(
    order_id: str,
    lines: Iterable[Line],
    canceled: Iterable[int],
    /,
    *,
    cancel_no: int = 1,
    event_id: int | None = None,
    **extra: Any,
) -> Envelope:
    """PAYMENT_CANCELED of the lines numbered ``canceled`` (paymentOrderNos) of the order with ``lines``, as order
    builds it (tests/payloads.py); ``extra`` replaces payload fields on purpose."""
    order_lines = [
        ConfirmLine(no, seller_no, amount, status, product_name="상품") for no, seller_no, amount, status in lines
    ]
    numbers = set(canceled)
    gone = [line for line in order_lines if line.payment_order_no in numbers]
    return payloads.payment_canceled(
        order_id, order_lines, gone, cancel_no=cancel_no, event_id=event_id or IDS.next_id(), **extra
    )


def envelope(event_type: str, key: str, **payload: Any) -> Envelope:
    return Envelope(event_id=IDS.next_id(), type=event_type, payload=payload, key=key)


async def publish(publisher: KafkaPublisher, topic: str, envelopes: Sequence[Envelope]) -> None:
    records = [OutgoingRecord(topic, e.key, e.to_json()) for e in envelopes]
    errors = await publisher.send_many(records)
    assert not any(errors), errors


async def publish_orders(publisher: KafkaPublisher, envelopes: Sequence[Envelope]) -> None:
    await publish(publisher, PAYMENT, envelopes)


def decoded(records: Iterable[ConsumerRecord[bytes, bytes]]) -> list[Envelope]:
    return [Envelope.from_record(r.key, r.value) for r in records]


async def scalar(db: Database, sql: str, **params: Any) -> Any:
    async with db.engine.connect() as conn:
        return (await conn.execute(text(sql), params)).scalar()


async def rows(db: Database, sql: str, **params: Any) -> list[Any]:
    async with db.engine.connect() as conn:
        return list((await conn.execute(text(sql), params)).all())


async def add_wallet(db: Database, seller_no: int, wallet_no: int | None = None) -> int:
    wallet_no = wallet_no or IDS.next_id()
    async with db.engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO wallets (wallet_no, seller_no, balance, version, created_at, updated_at)"
                " VALUES (:w, :s, 0, 0, UTC_TIMESTAMP(3), UTC_TIMESTAMP(3))"
            ),
            {"w": wallet_no, "s": seller_no},
        )
    return wallet_no


async def wallet_row(db: Database, seller_no: int) -> Any:
    found = await rows(db, "SELECT wallet_no, balance, version FROM wallets WHERE seller_no = :s", s=seller_no)
    return found[0] if found else None


async def balance(db: Database, seller_no: int) -> Decimal | None:
    row = await wallet_row(db, seller_no)
    return None if row is None else row.balance


async def credits_of_order(db: Database, order_id: str) -> list[Any]:
    return await rows(
        db,
        "SELECT wallet_no, amount, type, reference_id, reference_type, order_id, idempotency_key"
        " FROM wallet_transactions WHERE order_id = :o ORDER BY reference_id",
        o=order_id,
    )


async def debits_of_order(db: Database, order_id: str) -> list[Any]:
    """The order's DEBIT rows (canceled lines), by paymentOrderNo."""
    return [row for row in await credits_of_order(db, order_id) if row.type == "DEBIT"]


async def processed(db: Database, consumer: str, event_id: int) -> bool:
    found = await scalar(
        db, "SELECT COUNT(*) FROM processed_messages WHERE consumer = :c AND event_id = :e", c=consumer, e=event_id
    )
    return bool(found)


async def outbox_drained(db: Database) -> bool:
    """Every event the app wrote has been acknowledged by the broker."""
    return not await scalar(db, "SELECT COUNT(*) FROM outbox WHERE status = 'INIT'")


Headers = Callable[[int], dict[str, str]]
# Callers who may not read seller N's things: (their headers for N, the status, the code).
STRANGERS: list[tuple[Headers, int, str]] = [
    (lambda _: {}, 401, "AUTH0001"),
    (lambda _: {"Authorization": "Bearer not-a-token"}, 401, "AUTH0001"),
    (lambda seller: as_seller(seller + 1), 403, "AUTH0002"),
    (as_member, 403, "AUTH0002"),  # a member with the seller's number is still not the seller
]
