"""Idempotent consumption for services with a SQL database: the event id goes into
``processed_messages`` in the same transaction as the effect, so a redelivered event changes nothing.

The table is defined here once: its DDL (``inbox_migration``) and its ``Table`` (``processed_messages``,
copied into a service's own ``MetaData`` by ``add_inbox_table``), which the schema test compares."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy import BigInteger, Column, Index, MetaData, String, Table, text
from sqlalchemy.dialects.mysql import DATETIME

from kiwishop.platform.db import Database, UnitOfWork, retry_on_conflict
from kiwishop.platform.envelope import Envelope
from kiwishop.platform.migrations import Migration

INBOX_MIGRATION_STATEMENTS = (
    """
    CREATE TABLE IF NOT EXISTS processed_messages (
        consumer      VARCHAR(100) NOT NULL,
        event_id      BIGINT       NOT NULL,
        event_type    VARCHAR(100) NOT NULL,
        processed_at  DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        PRIMARY KEY (consumer, event_id),
        KEY idx_processed_at (processed_at)
    ) ENGINE=InnoDB
    """,
)

processed_messages = Table(
    "processed_messages",
    MetaData(),
    Column("consumer", String(100), primary_key=True),
    Column("event_id", BigInteger, primary_key=True, autoincrement=False),
    Column("event_type", String(100), nullable=False),
    Column("processed_at", DATETIME(fsp=3), nullable=False, server_default=text("CURRENT_TIMESTAMP(3)")),
    Index("idx_processed_at", "processed_at"),
)

EffectFn = Callable[[UnitOfWork, Envelope], Awaitable[None]]
Handler = Callable[[Envelope], Awaitable[None]]


def inbox_migration(version: str) -> Migration:
    return Migration(version, INBOX_MIGRATION_STATEMENTS)


def add_inbox_table(metadata: MetaData) -> Table:
    """The ``processed_messages`` table in a service's own ``MetaData`` (its ``tables.py``), for a service whose
    migrations include ``inbox_migration``."""
    return processed_messages.to_metadata(metadata)


CLAIM = text("INSERT IGNORE INTO processed_messages (consumer, event_id, event_type) VALUES (:c, :e, :t)")


def claim_params(consumer: str, event_id: int, event_type: str) -> dict[str, object]:
    """The parameters of ``CLAIM``."""
    return {"c": consumer, "e": event_id, "t": event_type}


async def claim(uow: UnitOfWork, consumer: str, envelope: Envelope) -> bool:
    """Record the event as processed by ``consumer``; False when it already was (a duplicate)."""
    result = await uow.run(CLAIM, claim_params(consumer, envelope.event_id, envelope.type))
    return bool(result.rowcount == 1)


def idempotent(db: Database, consumer: str, effect: EffectFn, *, conflict_attempts: int = 8) -> Handler:
    """Wrap ``effect`` so that it runs at most once per event id, in one transaction with the dedupe row.

    A version conflict or deadlock re-runs the whole transaction on fresh rows.
    """

    async def attempt(envelope: Envelope) -> None:
        async with db.uow() as uow:
            if not await claim(uow, consumer, envelope):
                return
            await effect(uow, envelope)
            await uow.commit()

    async def handle(envelope: Envelope) -> None:
        await retry_on_conflict(lambda: attempt(envelope), attempts=conflict_attempts)

    return handle
