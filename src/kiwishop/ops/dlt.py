"""Dead-letter topics: count, summarise and read the records consumers parked in ``<topic>.DLT``.

A parked record keeps the original key, value and headers, plus ``kiwi.dlt.error``,
``kiwi.dlt.original.topic|partition|offset`` and ``kiwi.dlt.consumer.group`` (see the consumer runner).
What ``kiwishop dlt redrive`` has already re-published is remembered as the committed offsets of the
group ``kiwishop-dlt-redrive``: a record at or past its partition's committed offset is "not yet
redriven". Reads assign the partitions by hand (no group join) and stop at the high watermark the
first fetch of each partition reports (this broker's end offsets are unreliable), so records parked
while a command runs wait for the next one.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from kiwishop.contracts.topics import BUSINESS_TOPICS
from kiwishop.platform.envelope import Envelope, EnvelopeError
from kiwishop.platform.kafka import kafka_security_kwargs
from kiwishop.platform.settings import InfraSettings

DLT_SUFFIX = ".DLT"
REDRIVE_GROUP = "kiwishop-dlt-redrive"
ERROR_WIDTH = 80
READ_TIMEOUT_S = 120.0


class UnknownTopicError(LookupError):
    """The broker has no such dead-letter topic."""


def dlt_name(topic: str) -> str:
    """``kiwi-shop-payment`` and ``kiwi-shop-payment.DLT`` both name ``kiwi-shop-payment.DLT``."""
    return topic if topic.endswith(DLT_SUFFIX) else f"{topic}{DLT_SUFFIX}"


@dataclass(frozen=True)
class Parked:
    """One record of a dead-letter topic."""

    dlt_topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]

    @classmethod
    def from_record(cls, record: ConsumerRecord[Any, Any]) -> Parked:
        headers = tuple((str(k), bytes(v or b"")) for k, v in record.headers or ())
        return cls(record.topic, record.partition, record.offset, record.key, record.value, headers)

    def header(self, name: str) -> str | None:
        found = [v for k, v in self.headers if k == name]
        return found[-1].decode("utf-8", "replace") if found else None

    @property
    def position(self) -> str:
        return f"{self.dlt_topic}:{self.partition}:{self.offset}"

    @property
    def original_topic(self) -> str:
        return self.header("kiwi.dlt.original.topic") or self.dlt_topic.removesuffix(DLT_SUFFIX)

    @property
    def group(self) -> str:
        return self.header("kiwi.dlt.consumer.group") or "(unknown group)"

    @property
    def error(self) -> str:
        return " ".join((self.header("kiwi.dlt.error") or "(no error header)").split())[:ERROR_WIDTH]

    def envelope(self) -> Envelope | None:
        try:
            return Envelope.from_record(self.key, self.value)
        except EnvelopeError:
            return None


class DltReader:
    """Reads dead-letter partitions by hand-assignment; offsets are committed only when asked to."""

    def __init__(self, consumer: AIOKafkaConsumer, partitions: list[TopicPartition]) -> None:
        self._consumer = consumer
        self.partitions = partitions

    async def committed(self) -> dict[TopicPartition, int]:
        """The redrive group's next offset per partition (0 where it never committed)."""
        return {tp: await self._consumer.committed(tp) or 0 for tp in self.partitions}

    async def rewind(self) -> None:
        if self.partitions:
            await self._consumer.seek_to_beginning(*self.partitions)

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        if offsets:
            await self._consumer.commit(offsets)

    async def batches(self, timeout_s: float = READ_TIMEOUT_S) -> AsyncIterator[list[Parked]]:
        """Every record from the current positions up to the high watermark each partition had when its
        first fetch answered; raises TimeoutError when that is not reached within ``timeout_s``."""
        ends: dict[TopicPartition, int] = {}
        deadline = time.monotonic() + timeout_s
        while not await self._done(ends):
            if time.monotonic() > deadline:
                raise TimeoutError(f"reading {sorted({tp.topic for tp in self.partitions})} took over {timeout_s}s")
            fetched = await self._consumer.getmany(timeout_ms=200, max_records=500)
            batch: list[Parked] = []
            for tp, records in fetched.items():
                end = ends.setdefault(tp, int(self._consumer.highwater(tp) or records[-1].offset + 1))
                batch.extend(Parked.from_record(r) for r in records if r.offset < end)
            if batch:
                yield batch

    async def _done(self, ends: dict[TopicPartition, int]) -> bool:
        for tp in self.partitions:
            if tp not in ends:
                high = self._consumer.highwater(tp)
                if high is None:
                    return False
                ends[tp] = high
            if await self._consumer.position(tp) < ends[tp]:
                return False
        return True


@asynccontextmanager
async def _started(infra: InfraSettings, group: str | None) -> AsyncIterator[AIOKafkaConsumer]:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=infra.kafka_bootstrap_servers,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        request_timeout_ms=infra.kafka_request_timeout_ms,
        fetch_max_wait_ms=infra.kafka_fetch_max_wait_ms,
        **kafka_security_kwargs(infra),
    )
    try:
        await consumer.start()
        yield consumer
    finally:
        await consumer.stop()


async def dlt_topics_on_broker(consumer: AIOKafkaConsumer) -> set[str]:
    return {t for t in await consumer.topics() if t.endswith(DLT_SUFFIX)}


@asynccontextmanager
async def open_reader(
    infra: InfraSettings, topics: Iterable[str], group: str = REDRIVE_GROUP
) -> AsyncIterator[DltReader]:
    """A reader over every partition of ``topics`` (dead-letter names), positioned at ``group``'s commits."""
    wanted = sorted(set(topics))
    async with _started(infra, group) as consumer:
        missing = [t for t in wanted if t not in await dlt_topics_on_broker(consumer)]
        if missing:
            raise UnknownTopicError(f"the broker has no topic {', '.join(missing)}")
        partitions = [TopicPartition(t, p) for t in wanted for p in sorted(consumer.partitions_for_topic(t) or ())]
        consumer.assign(partitions)
        yield DltReader(consumer, partitions)


@dataclass
class Tally:
    total: int = 0
    pending: int = 0

    def add(self, pending: bool) -> None:
        self.total += 1
        self.pending += int(pending)


@dataclass
class DltSummary:
    topic: str
    exists: bool = True
    records: Tally = field(default_factory=Tally)
    by_group: dict[str, Tally] = field(default_factory=dict)
    by_error: dict[str, Tally] = field(default_factory=dict)

    def add(self, parked: Parked, pending: bool) -> None:
        self.records.add(pending)
        self.by_group.setdefault(parked.group, Tally()).add(pending)
        self.by_error.setdefault(parked.error, Tally()).add(pending)


async def list_dlts(infra: InfraSettings, topics: Sequence[str] = (), group: str = REDRIVE_GROUP) -> list[DltSummary]:
    """A summary of the given dead-letter topics, or of the business topics' and every other one."""
    async with _started(infra, None) as probe:
        on_broker = await dlt_topics_on_broker(probe)
    wanted = [dlt_name(t) for t in topics] or sorted({dlt_name(t) for t in BUSINESS_TOPICS} | on_broker)
    summaries = {t: DltSummary(t, exists=t in on_broker) for t in wanted}
    async with open_reader(infra, [t for t in wanted if t in on_broker], group) as reader:
        committed = await reader.committed()
        await reader.rewind()
        async for batch in reader.batches():
            for parked in batch:
                tp = TopicPartition(parked.dlt_topic, parked.partition)
                summaries[parked.dlt_topic].add(parked, pending=parked.offset >= committed.get(tp, 0))
    return list(summaries.values())


async def read_parked(
    infra: InfraSettings, topic: str, *, include_redriven: bool = False, group: str = REDRIVE_GROUP
) -> list[Parked]:
    """The records of ``topic``'s DLT not yet redriven (or all of them), in partition and offset order."""
    records: list[Parked] = []
    async with open_reader(infra, [dlt_name(topic)], group) as reader:
        if include_redriven:
            await reader.rewind()
        async for batch in reader.batches():
            records.extend(batch)
    return sorted(records, key=lambda p: (p.partition, p.offset))


async def count_records(infra: InfraSettings, topics: Sequence[str], idle_s: float = 1.0) -> dict[str, int]:
    """How many records each dead-letter topic holds (read from the beginning with a throw-away group)."""
    counts = dict.fromkeys(topics, 0)
    consumer = AIOKafkaConsumer(
        *topics,
        bootstrap_servers=infra.kafka_bootstrap_servers,
        group_id=f"kiwishop-dlt-count-{uuid.uuid4().hex}",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=infra.kafka_session_timeout_ms,
        heartbeat_interval_ms=infra.kafka_heartbeat_interval_ms,
        **kafka_security_kwargs(infra),
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
