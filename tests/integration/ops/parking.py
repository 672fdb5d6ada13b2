"""Park records the way the services do: a real consumer runner whose handler cannot succeed."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

from aiokafka import ConsumerRecord
from sqlalchemy import text

from kiwishop.platform.consumer import ConsumerRunner, Handler, PermanentError
from kiwishop.platform.db import Database, UnitOfWork
from kiwishop.platform.envelope import Envelope
from kiwishop.platform.inbox import idempotent
from kiwishop.platform.kafka import KafkaPublisher, OutgoingRecord, ensure_topics
from kiwishop.platform.settings import InfraSettings
from tests.support import read_topic, unique

TRACE = ("trace-id", b"t-0001")
UNDECODABLE = b"\x00\x1b[31mnot an envelope"


def event(topic: str, event_id: int, key: str = "order-1", **payload: object) -> OutgoingRecord:
    envelope = Envelope(event_id=event_id, type="BUMP", payload=dict(payload), key=key)
    return OutgoingRecord(topic, key, envelope.to_json(), (TRACE,))


async def new_topic(infra: InfraSettings, partitions: int = 1) -> str:
    topic = unique("dlt")
    await ensure_topics(infra, [topic, f"{topic}.DLT"], partitions=partitions)
    return topic


async def refuse(envelope: Envelope) -> None:
    raise PermanentError(f"payload of {envelope.event_id} misses orderId")


@asynccontextmanager
async def consuming(
    infra: InfraSettings, publisher: KafkaPublisher, topic: str, handlers: Mapping[str, Handler], group: str = ""
) -> AsyncIterator[ConsumerRunner]:
    runner = ConsumerRunner(
        infra,
        group_id=group or unique("grp"),
        topics=[topic],
        handlers=handlers,
        publisher=publisher,
        retry_backoff_s=(0.05,),
    )
    await runner.start()
    try:
        yield runner
    finally:
        await runner.stop()


async def park(
    infra: InfraSettings, publisher: KafkaPublisher, records: list[OutgoingRecord], group: str = ""
) -> list[ConsumerRecord[bytes, bytes]]:
    """Publish ``records`` to their topic and let a refusing consumer park every one; the DLT's records."""
    (topic,) = {r.topic for r in records}
    await publisher.send_many(records)
    async with consuming(infra, publisher, topic, {"BUMP": refuse}, group):
        parked = await read_topic(infra, f"{topic}.DLT", expect=len(records), idle_s=0.3)
    assert len(parked) == len(records)
    return parked


def bump_for(db: Database, consumer: str) -> Handler:
    """A deduping handler (the services' inbox) that counts its effect per consumer and target."""

    async def effect(uow: UnitOfWork, envelope: Envelope) -> None:
        await uow.conn.execute(
            text("INSERT INTO effects (name, hits) VALUES (:n, 1) ON DUPLICATE KEY UPDATE hits = hits + 1"),
            {"n": f"{consumer}:{envelope.payload['target']}"},
        )

    return idempotent(db, consumer, effect)


async def hits(db: Database, consumer: str, target: str) -> int:
    async with db.engine.connect() as conn:
        query = text("SELECT hits FROM effects WHERE name = :n")
        return int((await conn.execute(query, {"n": f"{consumer}:{target}"})).scalar() or 0)
