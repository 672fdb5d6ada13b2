from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

from sqlalchemy import text

from kiwishop.platform.db import Database
from kiwishop.platform.ids import Snowflake
from kiwishop.platform.kafka import KafkaPublisher
from kiwishop.platform.outbox import Outbox
from kiwishop.platform.relay import OutboxRelay
from kiwishop.platform.settings import InfraSettings
from kiwishop_dev.devstack.infra import TansuBroker
from tests.support import eventually, on_free_port, read_to_end, read_topic, unique


async def write_events(db: Database, outbox: Outbox, topic: str, n: int, *, commit: bool = True) -> list[int]:
    ids = []
    async with db.uow() as uow:
        for i in range(n):
            env = await outbox.add(uow, topic=topic, key=f"agg-{i % 7}", event_type="THING_HAPPENED", payload={"i": i})
            ids.append(env.event_id)
        if commit:
            await uow.commit()
    return ids


async def pending(db: Database) -> int:
    async with db.engine.connect() as conn:
        return int((await conn.execute(text("SELECT COUNT(*) FROM outbox WHERE status = 'INIT'"))).scalar_one())


def started_broker(broker: TansuBroker) -> TansuBroker:
    try:
        broker.start()
    except BaseException:
        broker.stop()
        raise
    return broker


def event_ids(records: list) -> Counter[int]:
    from kiwishop.platform.envelope import Envelope

    return Counter(Envelope.from_record(r.key, r.value).event_id for r in records)


async def test_a_committed_row_is_published_keyed_by_aggregate_and_marked_success(
    infra: InfraSettings, db: Database
) -> None:
    topic = unique("relay")
    outbox, publisher = Outbox(Snowflake(11)), KafkaPublisher(infra)
    relay = OutboxRelay(db, publisher)
    try:
        ids = await write_events(db, outbox, topic, 3)
        assert await relay.relay_once() == 3
    finally:
        await publisher.close()
    records = await read_topic(infra, topic, expect=3)
    assert sorted(event_ids(records)) == sorted(ids)
    assert {r.key for r in records} == {b"agg-0", b"agg-1", b"agg-2"}
    async with db.engine.connect() as conn:
        rows = (await conn.execute(text("SELECT status, attempts, published_at FROM outbox"))).all()
    assert all(r.status == "SUCCESS" and r.attempts == 1 and r.published_at is not None for r in rows)


async def test_a_rolled_back_transaction_publishes_nothing(infra: InfraSettings, db: Database) -> None:
    topic = unique("relay")
    outbox, publisher = Outbox(Snowflake(12)), KafkaPublisher(infra)
    relay = OutboxRelay(db, publisher)
    try:
        await write_events(db, outbox, topic, 5, commit=False)
        assert await relay.relay_once() == 0
        (sentinel,) = await write_events(db, outbox, topic, 1)  # committed after them, published by the same relay
        assert await relay.relay_once() == 1
    finally:
        await publisher.close()
    # Read up to the topic's end, past the acknowledged sentinel: whatever was published before it is here.
    assert event_ids(await read_to_end(infra, topic)) == Counter({sentinel: 1})
    async with db.engine.connect() as conn:
        assert (await conn.execute(text("SELECT COUNT(*) FROM outbox"))).scalar_one() == 1  # the sentinel's row


async def test_two_relays_running_at_once_publish_each_row_exactly_once(infra: InfraSettings, db: Database) -> None:
    topic = unique("relay")
    outbox = Outbox(Snowflake(13))
    ids = []
    for _ in range(6):
        ids += await write_events(db, outbox, topic, 500)
    second_db = Database.connect(infra, db.engine.url.database or "")
    pub_a, pub_b = KafkaPublisher(infra), KafkaPublisher(infra)
    relay_a = OutboxRelay(db, pub_a, batch_size=100, poll_interval_s=0.05)
    relay_b = OutboxRelay(second_db, pub_b, batch_size=100, poll_interval_s=0.05)
    await relay_a.start()
    await relay_b.start()
    try:
        await eventually(lambda: pending(db), lambda n: n == 0, timeout_s=30)
    finally:
        await relay_a.stop()
        await relay_b.stop()
        await pub_a.close()
        await pub_b.close()
        await second_db.close()
    published = event_ids(await read_topic(infra, topic, expect=len(ids)))
    assert len(published) == 3000
    assert set(published) == set(ids)
    assert max(published.values()) == 1


async def test_the_relay_is_woken_by_a_commit_and_does_not_wait_for_its_poll(
    infra: InfraSettings, db: Database
) -> None:
    topic = unique("relay")
    outbox, publisher = Outbox(Snowflake(14)), KafkaPublisher(infra)
    # Polling every 10 minutes: within this test, only a wake-up can start a pass after the first one.
    relay = OutboxRelay(db, publisher, poll_interval_s=600)
    passes: list[int] = []  # rows each pass published
    real_pass = relay.relay_once

    async def counted_pass() -> int:
        published = await real_pass()
        passes.append(published)
        return published

    relay.relay_once = counted_pass  # type: ignore[method-assign]
    await relay.start()
    try:
        # Evidence, not a pause: the first pass ran (and found nothing) before the row exists; the relay now
        # waits for a wake-up or its poll.
        await eventually(lambda: asyncio.sleep(0, list(passes)), lambda p: p == [0])
        (event_id,) = await write_events(db, outbox, topic, 1)
        await eventually(lambda: pending(db), lambda n: n == 0, timeout_s=5)
        assert passes == [0, 1]  # a second pass started — woken by the commit — and it published the row
    finally:
        await relay.stop(drain_s=0)
        await publisher.close()
    assert event_ids(await read_to_end(infra, topic)) == Counter({event_id: 1})


async def test_a_row_committed_while_the_broker_is_down_is_published_once_after_it_returns(
    infra: InfraSettings, db: Database, tmp_path: Path
) -> None:
    broker = on_free_port(lambda port: started_broker(TansuBroker(port, tmp_path, name="tansu-outage")))
    own = infra.model_copy(update={"kafka_bootstrap_servers": broker.bootstrap, "kafka_request_timeout_ms": 1500})
    topic = unique("relay")
    outbox, publisher = Outbox(Snowflake(15)), KafkaPublisher(own)
    relay = OutboxRelay(db, publisher, poll_interval_s=0.1, backoff_base_s=0.1, backoff_max_s=0.5, publish_timeout_s=3)
    try:
        await publisher.ping()
        broker.stop()
        ids = await write_events(db, outbox, topic, 10)
        await relay.start()

        async def attempts() -> int:
            async with db.engine.connect() as conn:
                return int((await conn.execute(text("SELECT MIN(attempts) FROM outbox"))).scalar_one())

        await eventually(attempts, lambda n: n >= 2, timeout_s=30)
        assert await pending(db) == 10

        broker.start()
        await eventually(lambda: pending(db), lambda n: n == 0, timeout_s=30)
    finally:
        await relay.stop()
        await publisher.close()
    try:
        published = event_ids(await read_topic(own, topic, expect=10))
    finally:
        broker.stop()
    assert set(published) == set(ids)
    assert max(published.values()) == 1
