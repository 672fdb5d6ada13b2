"""Helpers for the ConsumerRunner tests: records to send, a runner with fast retries, the effects a handler leaves in
the scratch ``effects`` table, and a database that cannot be reached."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from sqlalchemy import text

from kiwishop.platform.consumer import ConsumerRunner, Handler
from kiwishop.platform.db import Database, UnitOfWork
from kiwishop.platform.envelope import Envelope
from kiwishop.platform.kafka import KafkaPublisher, OutgoingRecord
from kiwishop.platform.metrics import Metrics
from kiwishop.platform.settings import InfraSettings
from tests.support import dead_port, unique

FAST_RETRIES = (0.05, 0.1, 0.2)


async def hits(db: Database, name: str) -> int:
    async with db.engine.connect() as conn:
        value = (await conn.execute(text("SELECT hits FROM effects WHERE name = :n"), {"n": name})).scalar()
        return int(value or 0)


async def processed(db: Database) -> int:
    async with db.engine.connect() as conn:
        return int((await conn.execute(text("SELECT COUNT(*) FROM processed_messages"))).scalar_one())


def bump(uow_effect_name: str) -> Callable[[UnitOfWork, Envelope], Awaitable[None]]:
    async def effect(uow: UnitOfWork, envelope: Envelope) -> None:
        await uow.conn.execute(
            text("INSERT INTO effects (name, hits) VALUES (:n, 1) ON DUPLICATE KEY UPDATE hits = hits + 1"),
            {"n": envelope.payload.get("target", uow_effect_name)},
        )

    return effect


def record(topic: str, event_id: int, event_type: str = "BUMP", **payload: object) -> OutgoingRecord:
    env = Envelope(event_id=event_id, type=event_type, payload=dict(payload), key="k")
    return OutgoingRecord(topic, "k", env.to_json())


async def run_consumer(
    infra: InfraSettings,
    publisher: KafkaPublisher,
    topic: str,
    handlers: Mapping[str, Handler],
    metrics: Metrics | None = None,
    group: str | None = None,
) -> ConsumerRunner:
    runner = ConsumerRunner(
        infra,
        group_id=group or unique("grp"),
        topics=[topic],
        handlers=handlers,
        publisher=publisher,
        metrics=metrics,
        retry_backoff_s=FAST_RETRIES,
    )
    await runner.start()
    return runner


def unreachable_database(infra: InfraSettings) -> Database:
    """A database on a port where nothing listens: every unit of work fails as during a server restart."""
    return Database.connect(infra.model_copy(update={"db_port": dead_port()}), "nowhere")
