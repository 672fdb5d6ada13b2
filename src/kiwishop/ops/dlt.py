"""How many records each dead-letter topic holds (read from the beginning with a throw-away group)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence

from aiokafka import AIOKafkaConsumer

from kiwishop.platform.settings import InfraSettings


async def count_records(infra: InfraSettings, topics: Sequence[str], idle_s: float = 1.0) -> dict[str, int]:
    counts = dict.fromkeys(topics, 0)
    consumer = AIOKafkaConsumer(
        *topics,
        bootstrap_servers=infra.kafka_bootstrap_servers,
        group_id=f"kiwishop-dlt-count-{uuid.uuid4().hex}",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=infra.kafka_session_timeout_ms,
        heartbeat_interval_ms=infra.kafka_heartbeat_interval_ms,
    )
    await consumer.start()
    try:
        joined_by = time.monotonic() + 15
        while not consumer.assignment() and time.monotonic() < joined_by:
            await consumer.getmany(timeout_ms=200)
        last_record = time.monotonic()
        while time.monotonic() - last_record < idle_s:
            batch = await consumer.getmany(timeout_ms=200)
            for tp, records in batch.items():
                counts[tp.topic] += len(records)
                last_record = time.monotonic()
    finally:
        await consumer.stop()
    return counts
