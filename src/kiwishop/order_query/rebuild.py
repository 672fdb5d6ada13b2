"""Rebuild the read model: clear its keys, then replay ``kiwi-shop-payment`` from the beginning.

Replay (not a walk over order's O6) because order cannot list its members, and the topic holds every
PAYMENT_CONFIRM and PAYMENT_CANCELED that was published. The replay reads every partition from offset 0
with its own consumer that joins no group (the live consumer group and its offsets are untouched), applies
each event through the live consumer's handler (``handlers``) and store, and stops once every partition is
read up to the high watermark its fetches report (this broker's end offsets are unreliable). The seller
sales come out of the same scripts, so the replay gives the sums the live consumer gave.

While it runs the service stays correct: cleared members have no floor, so their pages come from order
(and refill Redis); the clear is one step for the event scripts (``ReadModelStore.clear``: a fence holds the
live consumer back until the last key is gone, so no event's marker is wiped while its seller sums stay), and
events the live consumer applies after it are idempotent with the replay. The
floors themselves come only from order: a member's first page read after the rebuild costs one O6 call.
What the topic no longer holds (retention, a broker that lost its memory) is refilled from order on
the first miss.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition

from kiwishop.contracts.events import PAYMENT_CANCELED, PAYMENT_CONFIRM
from kiwishop.order_query.domain import InvalidEvent
from kiwishop.order_query.handlers import ReadModelHandlers
from kiwishop.order_query.settings import OrderQuerySettings
from kiwishop.order_query.store import ReadModelStore
from kiwishop.platform.envelope import Envelope, EnvelopeError
from kiwishop.platform.kafka import ensure_topics, kafka_security_kwargs
from kiwishop.platform.redisclient import create_redis


@dataclass
class RebuildResult:
    cleared_keys: int = 0
    records: int = 0
    applied: int = 0
    duplicates: int = 0
    skipped: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        return (
            f"order-query read model rebuilt in {self.seconds:.1f}s: cleared {self.cleared_keys} keys, "
            f"replayed {self.records} records (applied {self.applied}, duplicates {self.duplicates}, "
            f"skipped {self.skipped})"
        )


async def _apply(effects: ReadModelHandlers, value: bytes | None, key: bytes | None, result: RebuildResult) -> None:
    """One record through the live consumer's handler; what its runner would park is skipped."""
    result.records += 1
    try:
        envelope = Envelope.from_record(key, value)
        if envelope.type == PAYMENT_CONFIRM.name and envelope.version in PAYMENT_CONFIRM.versions:
            applied = await effects.apply_payment_confirm(envelope)
        elif envelope.type == PAYMENT_CANCELED.name and envelope.version in PAYMENT_CANCELED.versions:
            applied = await effects.apply_payment_canceled(envelope)
        else:
            raise InvalidEvent(f"{envelope.type} v{envelope.version} is not a read-model event")
    except (EnvelopeError, InvalidEvent):
        result.skipped += 1  # the live consumer parked it in the DLT
        return
    if applied:
        result.applied += 1
    else:
        result.duplicates += 1


async def _partitions(consumer: AIOKafkaConsumer, topic: str, timeout_s: float) -> list[TopicPartition]:
    deadline = time.monotonic() + timeout_s
    while True:
        await consumer.topics()  # refreshes the metadata
        found = consumer.partitions_for_topic(topic)
        if found:
            return [TopicPartition(topic, p) for p in sorted(found)]
        if time.monotonic() > deadline:
            return []
        await asyncio.sleep(0.2)


async def _caught_up(consumer: AIOKafkaConsumer, partitions: list[TopicPartition]) -> bool:
    for tp in partitions:
        high = consumer.highwater(tp)
        if high is None or await consumer.position(tp) < high:
            return False
    return True


async def replay(store: ReadModelStore, settings: OrderQuerySettings, result: RebuildResult, timeout_s: float) -> None:
    infra = settings.infra
    consumer = AIOKafkaConsumer(
        bootstrap_servers=infra.kafka_bootstrap_servers,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        request_timeout_ms=infra.kafka_request_timeout_ms,
        fetch_max_wait_ms=infra.kafka_fetch_max_wait_ms,
        max_poll_records=1000,
        **kafka_security_kwargs(infra),
    )
    await ensure_topics(infra, [settings.payment_topic])  # as the live consumer does at start-up
    effects = ReadModelHandlers(store)
    await consumer.start()
    try:
        partitions = await _partitions(consumer, settings.payment_topic, timeout_s=10.0)
        if not partitions:
            return
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        deadline = time.monotonic() + timeout_s
        while not await _caught_up(consumer, partitions):
            if time.monotonic() > deadline:
                raise TimeoutError(f"replay of {settings.payment_topic} did not catch up within {timeout_s}s")
            batch = await consumer.getmany(timeout_ms=200, max_records=1000)
            for records in batch.values():
                for record in records:
                    await _apply(effects, record.value, record.key, result)
    finally:
        await consumer.stop()


async def rebuild(settings: OrderQuerySettings, *, timeout_s: float = 600.0) -> RebuildResult:
    started = time.perf_counter()
    result = RebuildResult()
    redis = create_redis(settings.infra.redis_url)
    try:
        store = ReadModelStore.for_settings(redis, settings)
        result.cleared_keys = await store.clear()
        await replay(store, settings, result, timeout_s)
    finally:
        await redis.aclose()
    result.seconds = time.perf_counter() - started
    return result


def main() -> int:
    """``kiwishop rebuild-order-query`` (settings from the KIWI_* / KIWI_ORDER_QUERY_* environment)."""
    print(asyncio.run(rebuild(OrderQuerySettings())).summary())
    return 0
