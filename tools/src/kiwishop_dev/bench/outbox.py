"""Outbox relay: how many rows per second one relay publishes, and commit→consume latency at idle."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import insert, text

from kiwishop.platform.consumer import ConsumerRunner
from kiwishop.platform.db import Database
from kiwishop.platform.envelope import Envelope
from kiwishop.platform.ids import Snowflake
from kiwishop.platform.kafka import KafkaPublisher, ensure_topics
from kiwishop.platform.migrations import migrate
from kiwishop.platform.outbox import Outbox, outbox_create_migration, outbox_table, outbox_trace_migration
from kiwishop.platform.relay import OutboxRelay
from kiwishop.platform.settings import InfraSettings
from kiwishop_dev.bench.report import Report, percentile

MIGRATIONS = [outbox_create_migration("0001_outbox"), outbox_trace_migration("0002_outbox_trace_context")]

SCENARIO = "outbox-relay"


async def _pending(db: Database) -> int:
    async with db.engine.connect() as conn:
        return int((await conn.execute(text("SELECT COUNT(*) FROM outbox WHERE status = 'INIT'"))).scalar_one())


async def _fill(db: Database, ids: Snowflake, topic: str, rows: int) -> None:
    """Insert ``rows`` pending rows directly (fast), as many committed transactions would have."""
    now = None
    chunk = 2000
    for start in range(0, rows, chunk):
        values = []
        for i in range(start, min(rows, start + chunk)):
            env = Envelope(
                event_id=ids.next_id(), type="BENCH", payload={"i": i, "pad": "x" * 200}, key=f"agg-{i % 97}"
            )
            now = now or env.occurred_at.replace(tzinfo=None)
            values.append(
                {
                    "outbox_no": ids.next_id(),
                    "event_id": env.event_id,
                    "event_type": "BENCH",
                    "topic": topic,
                    "message_key": env.key,
                    "status": "INIT",
                    "attempts": 0,
                    "next_attempt_at": now,
                    "payload": env.to_json().decode(),
                    "created_at": now,
                    "updated_at": now,
                }
            )
        async with db.uow() as uow:
            await uow.conn.execute(insert(outbox_table), values)
            await uow.commit()


async def relay_throughput(infra: InfraSettings, report: Report, rows: int) -> None:
    await migrate(infra, "bench_outbox", MIGRATIONS)
    db = Database.connect(infra, "bench_outbox")
    topic = f"bench-relay-{time.time_ns()}"
    await ensure_topics(infra, [topic])
    ids = Snowflake(900)
    await _fill(db, ids, topic, rows)
    publisher = KafkaPublisher(infra)
    relay = OutboxRelay(db, publisher, batch_size=1000, poll_interval_s=0.05)
    await publisher.ping()
    started = time.perf_counter()
    await relay.start()
    while await _pending(db) > 0:
        await asyncio.sleep(0.02)
    elapsed = time.perf_counter() - started
    await relay.stop()
    await publisher.close()
    await db.close()
    rate = rows / elapsed
    report.add(SCENARIO, f"relayed ({rows:,} pending rows, 1 relay)", rate, "rows/s", ">= 5,000", rate >= 5000)


async def commit_to_consume(infra: InfraSettings, report: Report, events: int) -> None:
    await migrate(infra, "bench_outbox", MIGRATIONS)
    db = Database.connect(infra, "bench_outbox")
    topic = f"bench-latency-{time.time_ns()}"
    await ensure_topics(infra, [topic, f"{topic}.DLT"])
    ids = Snowflake(901)
    outbox = Outbox(ids)
    publisher = KafkaPublisher(infra)
    relay = OutboxRelay(db, publisher, poll_interval_s=1.0)
    committed: dict[int, float] = {}
    latencies: list[float] = []
    all_seen = asyncio.Event()

    async def on_event(envelope: Envelope) -> None:
        latencies.append(time.perf_counter() - committed[envelope.event_id])
        if len(latencies) >= events:
            all_seen.set()

    runner = ConsumerRunner(
        infra, group_id=f"bench-{time.time_ns()}", topics=[topic], handlers={"BENCH": on_event}, publisher=publisher
    )
    await runner.start()
    await relay.start()
    await _warm_up(db, outbox, topic, committed)
    latencies.clear()
    for i in range(events):
        async with db.uow() as uow:
            env = await outbox.add(uow, topic=topic, key=f"agg-{i}", event_type="BENCH", payload={"i": i})
            await uow.commit()
            committed[env.event_id] = time.perf_counter()
        await asyncio.sleep(0.01)
    await asyncio.wait_for(all_seen.wait(), timeout=60)
    await runner.stop()
    await relay.stop()
    await publisher.close()
    await db.close()
    ms = [v * 1000 for v in latencies]
    p99 = percentile(ms, 99)
    report.add(SCENARIO, "commit→consume p50 (idle, 1 event/10 ms)", percentile(ms, 50), "ms")
    report.add(SCENARIO, "commit→consume p99 (idle, 1 event/10 ms)", p99, "ms", "< 50", p99 < 50)


async def _warm_up(db: Database, outbox: Outbox, topic: str, committed: dict[int, float]) -> None:
    """One event through the whole path, so the group join is not measured."""
    async with db.uow() as uow:
        env = await outbox.add(uow, topic=topic, key="warm", event_type="BENCH", payload={})
        await uow.commit()
        committed[env.event_id] = time.perf_counter()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and await _pending(db) > 0:
        await asyncio.sleep(0.05)
    await asyncio.sleep(3.0)  # consumer group joined and caught up


async def run(infra: InfraSettings, report: Report, quick: bool) -> None:
    await relay_throughput(infra, report, rows=5_000 if quick else 50_000)
    await commit_to_consume(infra, report, events=100 if quick else 500)
