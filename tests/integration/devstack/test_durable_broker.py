"""The local broker on SeaweedFS (as `make run` runs it) keeps everything across a restart of both, stopped
politely or killed with -9: the topic, every record with its key and headers, and a consumer group's
committed offsets. Real binaries on private ports, data in ``tmp_path``."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from kiwishop.platform.settings import InfraSettings
from kiwishop_dev.devstack.infra import SeaweedFS, SeaweedPorts, TansuBroker
from kiwishop_dev.devstack.procs import free_port
from tests.support import read_topic

TOPIC = "kiwi-durable"
GROUP = "kiwi-durable-readers"
PARTITIONS = 3
RECORDS = 30

Record = tuple[int, int, bytes | None, bytes | None, tuple[tuple[str, bytes], ...]]


class DurableBroker:
    """SeaweedFS and Tansu on s3:// storage, on fixed ports and one data folder, restartable."""

    def __init__(self, root: Path) -> None:
        self.store = SeaweedFS(root / "seaweedfs", SeaweedPorts.free(), root / "logs")
        self.broker = TansuBroker(
            free_port(), root / "logs", storage=self.store.storage_url, env=self.store.client_env()
        )

    @contextmanager
    def running(self, *, kill: bool = False) -> Iterator[str]:
        self.store.start()
        try:
            self.broker.start()
            yield self.broker.bootstrap
        finally:
            for server in (self.broker, self.store):
                server.proc.kill() if kill else server.stop()


def as_tuple(record: ConsumerRecord[bytes, bytes]) -> Record:
    return (record.partition, record.offset, record.key, record.value, tuple(record.headers or ()))


async def write(bootstrap: str) -> list[Record]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(TOPIC, PARTITIONS, 1)])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        sent = []
        for i in range(RECORDS):
            headers = [("event-id", f"e{i}".encode()), ("type", b"PAYMENT_CONFIRM")]
            meta = await producer.send_and_wait(TOPIC, f"v{i}".encode(), key=f"order-{i % 7}".encode(), headers=headers)
            sent.append((meta.partition, meta.offset, f"order-{i % 7}".encode(), f"v{i}".encode(), tuple(headers)))
        return sent
    finally:
        await producer.stop()


def group_consumer(bootstrap: str) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        TOPIC, bootstrap_servers=bootstrap, group_id=GROUP, enable_auto_commit=False, auto_offset_reset="earliest",
        session_timeout_ms=2000, heartbeat_interval_ms=500,
    )  # fmt: skip


async def consume(
    consumer: AIOKafkaConsumer, expect: int, *, idle_s: float = 1.5, timeout_s: float = 30
) -> list[Record]:
    """Records until ``expect`` arrived and then ``idle_s`` passed without another (extras would show)."""
    got: list[Record] = []
    deadline = time.monotonic() + timeout_s
    quiet_since = time.monotonic()
    while time.monotonic() < deadline and (len(got) < expect or time.monotonic() - quiet_since < idle_s):
        batch = await consumer.getmany(timeout_ms=200)
        for records in batch.values():
            got += [as_tuple(r) for r in records]
            quiet_since = time.monotonic()
    return got


async def read_half_and_commit(bootstrap: str) -> dict[int, int]:
    """The group reads everything, then commits half of each partition: the next read resumes there."""
    consumer = group_consumer(bootstrap)
    await consumer.start()
    try:
        seen = await consume(consumer, RECORDS)
        assert len(seen) == RECORDS
        ends = {p: sum(1 for r in seen if r[0] == p) for p in range(PARTITIONS)}
        committed = {p: n // 2 for p, n in ends.items()}
        await consumer.commit({TopicPartition(TOPIC, p): offset for p, offset in committed.items()})
        return committed
    finally:
        await consumer.stop()


async def resume(bootstrap: str) -> tuple[dict[int, int | None], list[Record]]:
    consumer = group_consumer(bootstrap)
    await consumer.start()
    try:
        committed = {p: await consumer.committed(TopicPartition(TOPIC, p)) for p in range(PARTITIONS)}
        return committed, await consume(consumer, 1)
    finally:
        await consumer.stop()


@pytest.mark.parametrize("kill", [False, True], ids=["stopped-politely", "killed-with-9"])
async def test_the_broker_on_seaweedfs_keeps_topics_records_headers_and_committed_offsets_across_restarts(
    tmp_path: Path, kill: bool
) -> None:
    durable = DurableBroker(tmp_path)
    with durable.running(kill=kill) as bootstrap:
        sent = await write(bootstrap)
        committed = await read_half_and_commit(bootstrap)

    with durable.running() as bootstrap:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await admin.start()
        try:
            assert TOPIC in await admin.list_topics()
        finally:
            await admin.close()
        infra = InfraSettings(kafka_bootstrap_servers=bootstrap)
        everything = [as_tuple(r) for r in await read_topic(infra, TOPIC, expect=RECORDS)]
        assert sorted(everything) == sorted(sent)
        resumed_at, resumed = await resume(bootstrap)

    assert resumed_at == committed
    assert sorted(resumed) == sorted(r for r in sent if r[1] >= committed[r[0]])
