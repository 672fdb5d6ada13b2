"""Transactional outbox: the only way an event leaves a service.

``await outbox.add(uow, ...)`` inserts the envelope into the service's ``outbox`` table inside the
caller's transaction; ``OutboxRelay`` (``platform/relay.py``) publishes the rows. The table is defined here
once: its DDL (``outbox_migration``) and its ``Table`` (``outbox_table``, copied into a service's own
``MetaData`` by ``add_outbox_table``), which the schema test compares.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Column, Enum, Index, Integer, MetaData, String, Table, text, update
from sqlalchemy.dialects.mysql import DATETIME, LONGTEXT
from sqlalchemy.dialects.mysql import insert as mysql_insert

from kiwishop.platform import tracing
from kiwishop.platform.clock import utcnow
from kiwishop.platform.db import UnitOfWork
from kiwishop.platform.envelope import Envelope
from kiwishop.platform.ids import Snowflake
from kiwishop.platform.migrations import Migration

OUTBOX_MIGRATION_STATEMENTS = (
    """
    CREATE TABLE IF NOT EXISTS outbox (
        outbox_no        BIGINT       NOT NULL PRIMARY KEY,
        event_id         BIGINT       NOT NULL,
        event_type       VARCHAR(100) NOT NULL,
        topic            VARCHAR(249) NOT NULL,
        message_key      VARCHAR(255) NOT NULL,
        idempotency_key  VARCHAR(128) NULL,
        status           ENUM('INIT','FAILURE','SUCCESS') NOT NULL DEFAULT 'INIT',
        attempts         INT          NOT NULL DEFAULT 0,
        next_attempt_at  DATETIME(3)  NOT NULL,
        last_error       VARCHAR(500) NULL,
        payload          LONGTEXT     NOT NULL,
        created_at       DATETIME(3)  NOT NULL,
        updated_at       DATETIME(3)  NOT NULL,
        published_at     DATETIME(3)  NULL,
        UNIQUE KEY uk_outbox_idempotency_key (idempotency_key),
        UNIQUE KEY uk_outbox_event_id (event_id),
        KEY idx_outbox_due (status, next_attempt_at, outbox_no),
        KEY idx_outbox_published (status, published_at)
    ) ENGINE=InnoDB
    """,
)


# Added later (a service's outbox made before it gets it from ``outbox_trace_migration``): the trace context and
# request id of the transaction that wrote the row (``tracing.stored_context``), sent by the relay as headers.
OUTBOX_TRACE_STATEMENTS = ("ALTER TABLE outbox ADD COLUMN trace_context VARCHAR(512) NULL",)


def outbox_migration(version: str) -> Migration:
    """The whole ``outbox`` table in one migration, for a schema of its own (tests, benchmarks). A service lists
    ``outbox_create_migration`` and ``outbox_trace_migration`` instead: its first one was applied before the
    trace column existed, and an applied migration never changes."""
    return Migration(version, OUTBOX_MIGRATION_STATEMENTS + OUTBOX_TRACE_STATEMENTS)


def outbox_create_migration(version: str) -> Migration:
    """The ``outbox`` table as a service's first outbox migration made it (without ``trace_context``)."""
    return Migration(version, OUTBOX_MIGRATION_STATEMENTS)


def outbox_trace_migration(version: str) -> Migration:
    """The ``trace_context`` column, for a service whose migrations list ``outbox_create_migration``."""
    return Migration(version, OUTBOX_TRACE_STATEMENTS)


_metadata = MetaData()
outbox_table = Table(
    "outbox",
    _metadata,
    Column("outbox_no", BigInteger, primary_key=True, autoincrement=False),
    Column("event_id", BigInteger, nullable=False),
    Column("event_type", String(100), nullable=False),
    Column("topic", String(249), nullable=False),
    Column("message_key", String(255), nullable=False),
    Column("idempotency_key", String(128)),
    Column("status", Enum("INIT", "FAILURE", "SUCCESS", name="outbox_status"), nullable=False, server_default="INIT"),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("next_attempt_at", DATETIME(fsp=3), nullable=False),
    Column("last_error", String(500)),
    Column("payload", LONGTEXT, nullable=False),
    Column("created_at", DATETIME(fsp=3), nullable=False),
    Column("updated_at", DATETIME(fsp=3), nullable=False),
    Column("published_at", DATETIME(fsp=3)),
    Column("trace_context", String(512)),
    Index("uk_outbox_idempotency_key", "idempotency_key", unique=True),
    Index("uk_outbox_event_id", "event_id", unique=True),
    Index("idx_outbox_due", "status", "next_attempt_at", "outbox_no"),
    Index("idx_outbox_published", "status", "published_at"),
)


def add_outbox_table(metadata: MetaData) -> Table:
    """The ``outbox`` table in a service's own ``MetaData`` (its ``tables.py``), for a service whose migrations
    include ``outbox_migration``."""
    return outbox_table.to_metadata(metadata)


# Built once (constructing them per call cost ~10% of a consumer's CPU); the benchmark's replay sends these too.
INSERT = outbox_table.insert()
_UPSERT = mysql_insert(outbox_table)
# A repeated reply: its existing row (first eventId and payload) made due again; else a new row.
INSERT_OR_REQUEUE = _UPSERT.on_duplicate_key_update(
    status="INIT", attempts=0, next_attempt_at=_UPSERT.inserted.next_attempt_at, updated_at=_UPSERT.inserted.updated_at
)


def outbox_row(
    ids: Snowflake,
    *,
    topic: str,
    key: str,
    event_type: str,
    payload: dict[str, Any],
    idempotency_key: str | None,
    event_id: int | None = None,
) -> tuple[Envelope, dict[str, Any]]:
    """The envelope of one event and its ``INSERT`` row, due now, with the trace context and request id of the
    span that writes it (the request's, or the consumed record's): the relay sends them on as headers."""
    envelope = Envelope(event_id=event_id or ids.next_id(), type=event_type, payload=payload, key=key)
    now = utcnow()
    return envelope, {
        "outbox_no": ids.next_id(),
        "event_id": envelope.event_id,
        "event_type": event_type,
        "topic": topic,
        "message_key": key,
        "idempotency_key": idempotency_key,
        "status": "INIT",
        "attempts": 0,
        "next_attempt_at": now,
        "payload": envelope.to_json().decode(),
        "created_at": now,
        "updated_at": now,
        "trace_context": tracing.stored_context(),
    }


class Outbox:
    """Writes events into the caller's unit of work."""

    def __init__(self, ids: Snowflake) -> None:
        self._ids = ids

    async def add(
        self,
        uow: UnitOfWork,
        *,
        topic: str,
        key: str,
        event_type: str,
        payload: dict[str, Any],
        idempotency_key: str | None = None,
        event_id: int | None = None,
    ) -> Envelope:
        """Insert one event; ``event_id`` when the event already has an id (a re-publish of a known event)."""
        envelope, row = outbox_row(
            self._ids, topic=topic, key=key, event_type=event_type, payload=payload,
            idempotency_key=idempotency_key, event_id=event_id,
        )  # fmt: skip
        await uow.run(INSERT, row)
        uow.wrote_outbox = True
        return envelope

    async def add_or_requeue(
        self,
        uow: UnitOfWork,
        *,
        topic: str,
        key: str,
        event_type: str,
        payload: dict[str, Any],
        idempotency_key: str,
    ) -> None:
        """The event of ``idempotency_key`` goes out (again): a new row, or the existing one — with its original
        eventId and payload — made due again. For replies that must be repeated when their request is repeated."""
        _, row = outbox_row(
            self._ids, topic=topic, key=key, event_type=event_type, payload=payload, idempotency_key=idempotency_key
        )
        await uow.run(INSERT_OR_REQUEUE, row)
        uow.wrote_outbox = True

    async def requeue(self, uow: UnitOfWork, idempotency_key: str) -> bool:
        """Make the row of ``idempotency_key`` due again (same eventId, same payload); False if no such row."""
        now = utcnow()
        result = await uow.conn.execute(
            update(outbox_table)
            .where(outbox_table.c.idempotency_key == idempotency_key)
            .values(status="INIT", attempts=0, next_attempt_at=now, updated_at=now)
        )
        uow.wrote_outbox = True
        return bool(result.rowcount)
