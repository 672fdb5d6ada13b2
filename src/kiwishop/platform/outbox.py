"""Transactional outbox: the only way an event leaves a service.

``await outbox.add(uow, ...)`` inserts the envelope into the service's ``outbox`` table inside the
caller's transaction. ``OutboxRelay`` (one per process, several processes may run at once) claims due
rows with ``FOR UPDATE SKIP LOCKED`` and a lease, publishes them keyed by aggregate id, and marks a row
SUCCESS only after the broker acknowledged it; a failed row stays INIT with ``attempts`` + 1 and an
exponential ``next_attempt_at``. The relay is woken when a unit of work that wrote to the outbox
commits, and polls as a fallback.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Enum,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    bindparam,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.dialects.mysql import insert as mysql_insert

from kiwishop.platform.db import Database, UnitOfWork
from kiwishop.platform.envelope import Envelope
from kiwishop.platform.ids import Snowflake
from kiwishop.platform.kafka import KafkaPublisher, OutgoingRecord
from kiwishop.platform.metrics import Metrics
from kiwishop.platform.migrations import Migration

log = logging.getLogger("kiwishop.outbox")

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


def outbox_migration(version: str) -> Migration:
    return Migration(version, OUTBOX_MIGRATION_STATEMENTS)


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
    Column("status", Enum("INIT", "FAILURE", "SUCCESS", name="outbox_status"), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", DateTime(), nullable=False),
    Column("last_error", String(500)),
    Column("payload", Text, nullable=False),
    Column("created_at", DateTime(), nullable=False),
    Column("updated_at", DateTime(), nullable=False),
    Column("published_at", DateTime()),
)


_INSERT = outbox_table.insert()  # built once: constructing it per call cost ~10% of a consumer's CPU


def backoff_delay(attempts: int, base_s: float, cap_s: float) -> float:
    """Seconds to wait before the next publish attempt of a row that failed ``attempts`` times before."""
    return float(min(cap_s, base_s * (2 ** min(attempts, 30))))


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


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
        envelope, row = self._row(topic, key, event_type, payload, idempotency_key, event_id)
        await uow.conn.execute(_INSERT, row)
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
        _, row = self._row(topic, key, event_type, payload, idempotency_key, None)
        now = row["next_attempt_at"]
        await uow.conn.execute(
            mysql_insert(outbox_table)
            .values(row)
            .on_duplicate_key_update(status="INIT", attempts=0, next_attempt_at=now, updated_at=now)
        )
        uow.wrote_outbox = True

    async def requeue(self, uow: UnitOfWork, idempotency_key: str) -> bool:
        """Make the row of ``idempotency_key`` due again (same eventId, same payload); False if no such row."""
        now = _utcnow()
        result = await uow.conn.execute(
            update(outbox_table)
            .where(outbox_table.c.idempotency_key == idempotency_key)
            .values(status="INIT", attempts=0, next_attempt_at=now, updated_at=now)
        )
        uow.wrote_outbox = True
        return bool(result.rowcount)

    def _row(
        self,
        topic: str,
        key: str,
        event_type: str,
        payload: dict[str, Any],
        idempotency_key: str | None,
        event_id: int | None,
    ) -> tuple[Envelope, dict[str, Any]]:
        envelope = Envelope(event_id=event_id or self._ids.next_id(), type=event_type, payload=payload, key=key)
        now = _utcnow()
        return envelope, {
            "outbox_no": self._ids.next_id(),
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
        }


class OutboxRelay:
    def __init__(
        self,
        db: Database,
        publisher: KafkaPublisher,
        *,
        metrics: Metrics | None = None,
        batch_size: int = 500,
        poll_interval_s: float = 1.0,
        lease_s: float = 30.0,
        backoff_base_s: float = 0.5,
        backoff_max_s: float = 30.0,
        retention_hours: float = 72.0,
        publish_timeout_s: float = 10.0,
        linger_s: float = 0.005,
    ) -> None:
        self._db = db
        self._publisher = publisher
        self._metrics = metrics
        self._batch = batch_size
        self._poll = poll_interval_s
        self._lease = dt.timedelta(seconds=lease_s)
        self._backoff_base = backoff_base_s
        self._backoff_max = backoff_max_s
        self._retention = dt.timedelta(hours=retention_hours)
        self._publish_timeout = publish_timeout_s
        self._linger = linger_s
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        db.on_outbox_commit(self.wake)

    def wake(self) -> None:
        self._wake.set()

    async def start(self) -> None:
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def stop(self, drain_s: float = 5.0) -> None:
        """Stop the loop, then publish what is due (for up to ``drain_s``): a clean stop leaves nothing behind
        that the broker could have taken. Rows it cannot publish stay pending for the next start."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            await self._task
            self._task = None
        await self.drain(drain_s)

    async def drain(self, timeout_s: float) -> int:
        """Publish due rows until none is left, one fails, or ``timeout_s`` passes; returns rows published."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        published = 0
        while loop.time() < deadline:
            try:
                done = await asyncio.wait_for(self.relay_once(), timeout=max(0.1, deadline - loop.time()))
            except Exception:
                log.warning("outbox drain stopped early", exc_info=True)
                break
            published += done
            if done < self._batch:
                break
        return published

    async def _run(self) -> None:
        last_housekeeping = 0.0
        loop = asyncio.get_running_loop()
        while not self._stopping:
            self._wake.clear()  # before claiming: a commit made while this pass runs wakes the next one
            try:
                published = await self.relay_once()
                if loop.time() - last_housekeeping > 5.0:
                    last_housekeeping = loop.time()
                    await self._housekeeping()
            except Exception:
                log.exception("outbox relay iteration failed")
                published = 0
            if published >= self._batch:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._poll)
            if self._linger > 0 and not self._stopping:
                await asyncio.sleep(self._linger)  # let the commits of a busy moment share one batch

    async def relay_once(self) -> int:
        """Claim one batch of due rows, publish it, record the outcome. Returns rows published."""
        rows = await self._claim()
        if not rows:
            return 0
        records = [OutgoingRecord(r.topic, r.message_key, r.payload.encode()) for r in rows]
        try:
            results = await asyncio.wait_for(self._publisher.send_many(records), timeout=self._publish_timeout)
        except TimeoutError as exc:
            results = [exc] * len(rows)
        done = [r.outbox_no for r, err in zip(rows, results, strict=True) if err is None]
        failed = [(r, err) for r, err in zip(rows, results, strict=True) if err is not None]
        await self._record(done, failed)
        return len(done)

    async def _claim(self) -> list[Any]:
        now = _utcnow()
        async with self._db.uow() as uow:
            rows = (
                await uow.conn.execute(
                    select(
                        outbox_table.c.outbox_no,
                        outbox_table.c.topic,
                        outbox_table.c.message_key,
                        outbox_table.c.payload,
                        outbox_table.c.attempts,
                    )
                    .where(outbox_table.c.status == "INIT", outbox_table.c.next_attempt_at <= now)
                    .order_by(outbox_table.c.next_attempt_at, outbox_table.c.outbox_no)
                    .limit(self._batch)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if rows:
                await uow.conn.execute(
                    update(outbox_table)
                    .where(outbox_table.c.outbox_no.in_([r.outbox_no for r in rows]))
                    .values(next_attempt_at=now + self._lease, updated_at=now)
                )
            await uow.commit()
        return list(rows)

    async def _record(self, done: list[int], failed: list[tuple[Any, BaseException]]) -> None:
        now = _utcnow()
        async with self._db.uow() as uow:
            if done:
                await uow.conn.execute(
                    update(outbox_table)
                    .where(outbox_table.c.outbox_no.in_(done))
                    .values(
                        status="SUCCESS",
                        attempts=outbox_table.c.attempts + 1,
                        published_at=now,
                        updated_at=now,
                        last_error=None,
                    )
                )
            if failed:
                await uow.conn.execute(
                    update(outbox_table)
                    .where(outbox_table.c.outbox_no == bindparam("b_no"))
                    .values(
                        attempts=outbox_table.c.attempts + 1,
                        next_attempt_at=bindparam("b_next"),
                        last_error=bindparam("b_error"),
                        updated_at=now,
                    ),
                    [
                        {
                            "b_no": row.outbox_no,
                            "b_next": now
                            + dt.timedelta(seconds=backoff_delay(row.attempts, self._backoff_base, self._backoff_max)),
                            "b_error": f"{type(err).__name__}: {err}"[:500],
                        }
                        for row, err in failed
                    ],
                )
            await uow.commit()
        if self._metrics is not None:
            self._metrics.outbox_published.inc(len(done))
            self._metrics.outbox_failures.inc(len(failed))
        if failed:
            log.warning("outbox: %d rows not acknowledged, will retry: %s", len(failed), failed[0][1])

    async def _housekeeping(self) -> None:
        async with self._db.uow() as uow:
            pending = (await uow.conn.execute(select(func.count()).where(outbox_table.c.status == "INIT"))).scalar_one()
            await uow.conn.execute(
                delete(outbox_table)
                .where(
                    outbox_table.c.status == "SUCCESS",
                    outbox_table.c.published_at < _utcnow() - self._retention,
                )
                .with_dialect_options(mysql_limit=10000)
            )
            await uow.commit()
        if self._metrics is not None:
            self._metrics.outbox_pending.set(pending)
