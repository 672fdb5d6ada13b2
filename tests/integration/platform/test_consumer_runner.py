"""ConsumerRunner against the real broker and MariaDB: each event applied once, poison and failing records parked
after their retries, offsets committed after processing, a clean stop, partitions handled concurrently. A database
that cannot be reached: test_consumer_runner_outages.py."""

from __future__ import annotations

import asyncio

from kiwishop.platform.consumer import PermanentError
from kiwishop.platform.db import Database
from kiwishop.platform.envelope import Envelope
from kiwishop.platform.inbox import idempotent
from kiwishop.platform.kafka import KafkaPublisher, OutgoingRecord, ensure_topics
from kiwishop.platform.metrics import Metrics
from kiwishop.platform.settings import InfraSettings
from tests.integration.platform.consumer_support import bump, hits, processed, record, run_consumer
from tests.support import eventually, headers_dict, read_to_end, read_topic, unique


async def test_the_same_event_delivered_twice_is_applied_once(
    infra: InfraSettings, db: Database, publisher: KafkaPublisher, topic: str
) -> None:
    await publisher.send_many([record(topic, 1001, target="dup"), record(topic, 1001, target="dup")])
    await publisher.send(record(topic, 1002, target="marker"))
    runner = await run_consumer(infra, publisher, topic, {"BUMP": idempotent(db, "test", bump("x"))})
    try:
        await eventually(lambda: hits(db, "marker"), lambda n: n == 1)
    finally:
        await runner.stop()
    assert await hits(db, "dup") == 1
    assert await processed(db) == 2


async def test_a_poison_record_is_parked_once_and_the_next_good_record_is_still_processed(
    infra: InfraSettings, db: Database, publisher: KafkaPublisher, topic: str
) -> None:
    metrics = Metrics("test")
    await publisher.send(OutgoingRecord(topic, "k", b"\x00not an envelope"))
    await publisher.send(record(topic, 2001, "NO_SUCH_TYPE"))
    await publisher.send(record(topic, 2002, target="after-poison"))
    runner = await run_consumer(infra, publisher, topic, {"BUMP": idempotent(db, "test", bump("x"))}, metrics)
    try:
        await eventually(lambda: hits(db, "after-poison"), lambda n: n == 1)
    finally:
        await runner.stop()
    parked = await read_topic(infra, f"{topic}.DLT", expect=2)
    assert next(r.value for r in parked) == b"\x00not an envelope"
    assert len(parked) == 2
    first, second = (headers_dict(r) for r in parked)
    assert first["kiwi.dlt.original.topic"] == topic
    assert first["kiwi.dlt.original.partition"] == "0"
    assert first["kiwi.dlt.original.offset"] == "0"
    assert first["kiwi.dlt.error"].startswith("EnvelopeError")
    assert "unknown event type" in second["kiwi.dlt.error"]
    assert second["kiwi.dlt.original.offset"] == "1"
    assert metrics.dlt.labels(runner.group_id, topic)._value.get() == 2


async def test_a_handler_that_keeps_failing_is_retried_three_times_then_parked_once(
    infra: InfraSettings, db: Database, publisher: KafkaPublisher, topic: str
) -> None:
    calls: list[int] = []

    async def flaky(envelope: Envelope) -> None:
        calls.append(envelope.event_id)
        if envelope.payload.get("fail"):
            raise RuntimeError("database on fire")
        await idempotent(db, "test", bump("x"))(envelope)

    await publisher.send(record(topic, 3001, fail=True))
    await publisher.send(record(topic, 3002, target="after-failure"))
    runner = await run_consumer(infra, publisher, topic, {"BUMP": flaky})
    try:
        await eventually(lambda: hits(db, "after-failure"), lambda n: n == 1)
    finally:
        await runner.stop()
    assert calls.count(3001) == 4  # the first delivery and three retries
    parked = await read_topic(infra, f"{topic}.DLT", expect=1)
    assert len(parked) == 1
    assert headers_dict(parked[0])["kiwi.dlt.error"] == "RuntimeError: database on fire"


async def test_a_handler_that_recovers_within_its_retries_is_not_parked(
    infra: InfraSettings, db: Database, publisher: KafkaPublisher, topic: str
) -> None:
    failures = {"left": 2}

    async def recovering(envelope: Envelope) -> None:
        if failures["left"]:
            failures["left"] -= 1
            raise RuntimeError("transient")
        await idempotent(db, "test", bump("x"))(envelope)

    await publisher.send(record(topic, 4001, target="recovered"))
    runner = await run_consumer(infra, publisher, topic, {"BUMP": recovering})
    try:
        await eventually(lambda: hits(db, "recovered"), lambda n: n == 1)
    finally:
        await runner.stop()
    assert await read_to_end(infra, f"{topic}.DLT") == []


async def test_a_permanent_error_skips_the_retries(
    infra: InfraSettings, db: Database, publisher: KafkaPublisher, topic: str
) -> None:
    calls: list[int] = []

    async def strict(envelope: Envelope) -> None:
        calls.append(envelope.event_id)
        raise PermanentError("payload misses orderId")

    await publisher.send(record(topic, 5001))
    runner = await run_consumer(infra, publisher, topic, {"BUMP": strict})
    try:
        parked = await read_topic(infra, f"{topic}.DLT", expect=1)
    finally:
        await runner.stop()
    assert calls == [5001]
    assert len(parked) == 1


async def test_offsets_are_committed_after_processing_so_a_restart_does_not_reapply(
    infra: InfraSettings, db: Database, publisher: KafkaPublisher, topic: str
) -> None:
    seen: list[int] = []

    async def counting(envelope: Envelope) -> None:
        seen.append(envelope.event_id)
        await idempotent(db, "test", bump("x"))(envelope)

    group = unique("grp")
    await publisher.send_many([record(topic, 6000 + i, target="restart") for i in range(5)])
    runner = await run_consumer(infra, publisher, topic, {"BUMP": counting}, group=group)
    await eventually(lambda: hits(db, "restart"), lambda n: n == 5)
    await runner.stop()

    await publisher.send(record(topic, 6100, target="restart"))
    runner = await run_consumer(infra, publisher, topic, {"BUMP": counting}, group=group)
    try:
        await eventually(lambda: hits(db, "restart"), lambda n: n == 6)
    finally:
        await runner.stop()
    assert sorted(seen) == [6000, 6001, 6002, 6003, 6004, 6100]


async def test_stop_waits_for_the_record_in_progress(
    infra: InfraSettings, db: Database, publisher: KafkaPublisher, topic: str
) -> None:
    started, finished = asyncio.Event(), asyncio.Event()

    async def slow(envelope: Envelope) -> None:
        started.set()
        await asyncio.sleep(0.5)
        await idempotent(db, "test", bump("x"))(envelope)
        finished.set()

    await publisher.send(record(topic, 7001, target="slow"))
    runner = await run_consumer(infra, publisher, topic, {"BUMP": slow})
    await asyncio.wait_for(started.wait(), timeout=10)
    await runner.stop()
    assert finished.is_set()
    assert await hits(db, "slow") == 1


async def test_concurrent_deliveries_of_one_event_apply_it_once(db: Database) -> None:
    handler = idempotent(db, "test", bump("x"))
    env = Envelope(event_id=8001, type="BUMP", payload={"target": "concurrent"}, key="k")
    await asyncio.gather(*(handler(env) for _ in range(10)))
    assert await hits(db, "concurrent") == 1


async def test_records_of_several_partitions_with_a_backlog_are_handled_concurrently(
    infra: InfraSettings, publisher: KafkaPublisher
) -> None:
    from aiokafka import AIOKafkaProducer

    topic = unique("cons-multi")
    await ensure_topics(infra, [topic, f"{topic}.DLT"], partitions=3)
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap_servers)
    await producer.start()
    try:
        for partition in range(3):  # a backlog of more than one poll in every partition
            for i in range(150):
                env = Envelope(event_id=9000 + partition * 1000 + i, type="SEEN", payload={"p": partition}, key="k")
                await producer.send(topic, env.to_json(), key=b"k", partition=partition)
        await producer.flush()
    finally:
        await producer.stop()
    handled: list[int] = []

    async def seen(envelope: Envelope) -> None:
        await asyncio.sleep(0.001)
        handled.append(envelope.payload["p"])

    runner = await run_consumer(infra, publisher, topic, {"SEEN": seen})
    try:
        await eventually(lambda: asyncio.sleep(0, len(handled)), lambda n: n == 450, timeout_s=30)
    finally:
        await runner.stop()
    assert set(handled[:30]) == {0, 1, 2}  # not one partition's backlog after the other
