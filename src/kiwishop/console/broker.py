"""The Kafka broker as the console sees it (``ports.Broker``): consumer lag per group and topic, and the dead
letters — counted, read and redriven with ``kiwishop.ops.dlt`` / ``kiwishop.ops.redrive`` (what ``kiwishop dlt``
runs).

Lag is a group's committed offsets against each partition's high watermark. The group list comes from the
broker (ListGroups, which Tansu answers); a group's topics come from the settings (``CONSUMER_GROUPS``), since
Tansu breaks the connection on an OffsetFetch for all of a group's topics and answers it only for named
partitions. The high watermark is the one a fetch reports, read at the listed end offset (Tansu's "latest"
offsets can be low by a batch, design.md §4), so only the records past it are fetched.

One record redriven on its own is re-published exactly as ``redrive`` would; it is remembered as redriven (the
redrive group's committed offset moves past it) only when it is the first not-yet-redriven record of its
partition — otherwise a later redrive of the whole topic sends it again, which its consumers dedupe by eventId.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from kiwishop.console.domain import ConsoleError, lag_of
from kiwishop.console.ports import Json
from kiwishop.ops.dlt import Parked, UnknownTopicError, dlt_name, list_dlts, open_reader
from kiwishop.ops.redrive import RedriveError, printable, redrive, redrive_count, redriven, render_value, safe_text
from kiwishop.platform.errors import AppError
from kiwishop.platform.kafka import KafkaPublisher, kafka_security_kwargs
from kiwishop.platform.settings import InfraSettings

BROKER_ERRORS = (KafkaError, OSError, TimeoutError, RedriveError)


def record_view(parked: Parked, was_redriven: bool) -> Json:
    """One parked record for the console: where it is, why and by whom it was parked, its headers and payload."""
    envelope = parked.envelope()
    return {
        "partition": parked.partition,
        "offset": parked.offset,
        "key": safe_text(parked.key) if parked.key is not None else None,
        "group": parked.group,
        "error": parked.header("kiwi.dlt.error"),
        "originalTopic": parked.original_topic,
        "eventId": envelope.event_id if envelope else None,
        "type": envelope.type if envelope else None,
        "headers": [{"name": printable(k), "value": safe_text(v)} for k, v in parked.headers],
        "payload": render_value(parked.value),
        "redriveCount": redrive_count(parked),
        "redriven": was_redriven,
    }


async def high_watermarks(infra: InfraSettings, topics: Sequence[str], timeout_s: float) -> dict[TopicPartition, int]:
    """Each partition's high watermark, from a fetch at its listed end offset (no group, nothing committed)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=infra.kafka_bootstrap_servers, enable_auto_commit=False, auto_offset_reset="earliest",
        request_timeout_ms=infra.kafka_request_timeout_ms, fetch_max_wait_ms=infra.kafka_fetch_max_wait_ms,
        **kafka_security_kwargs(infra),
    )  # fmt: skip
    await consumer.start()
    try:
        on_broker = await consumer.topics()
        parts = [TopicPartition(t, p) for t in topics if t in on_broker for p in consumer.partitions_for_topic(t) or ()]
        if not parts:
            return {}
        consumer.assign(parts)
        listed: dict[TopicPartition, int] = await consumer.end_offsets(parts)
        for tp in parts:
            consumer.seek(tp, listed[tp])
        deadline = time.monotonic() + timeout_s
        while unknown := [tp for tp in parts if consumer.highwater(tp) is None]:
            if time.monotonic() > deadline:
                raise TimeoutError(f"no high watermark of {len(unknown)} partition(s) within {timeout_s:g}s")
            await consumer.getmany(*unknown, timeout_ms=200, max_records=1)
        return {tp: max(consumer.highwater(tp) or 0, listed[tp]) for tp in parts}
    finally:
        await consumer.stop()


class KafkaBroker:
    def __init__(self, infra: InfraSettings, groups: Mapping[str, Sequence[str]], *, timeout_s: float = 20.0) -> None:
        self._infra = infra
        self._groups = {g: tuple(ts) for g, ts in groups.items()}
        self._timeout_s = timeout_s

    async def consumer_lag(self) -> list[Json]:
        """Per known group and topic: records not yet consumed, and whether the broker lists the group."""
        infra = self._infra
        admin = AIOKafkaAdminClient(
            bootstrap_servers=infra.kafka_bootstrap_servers, request_timeout_ms=infra.kafka_request_timeout_ms,
            **kafka_security_kwargs(infra),
        )  # fmt: skip
        await admin.start()
        try:
            joined = {str(entry[0]) for entry in await admin.list_consumer_groups()}
            topics = sorted({t for ts in self._groups.values() for t in ts})
            high = await high_watermarks(infra, topics, self._timeout_s)
            rows: list[Json] = []
            for group, group_topics in sorted(self._groups.items()):
                parts = [tp for tp in high if tp.topic in group_topics]
                committed: dict[TopicPartition, Any] = (
                    await admin.list_consumer_group_offsets(group, partitions=parts) if parts else {}
                )
                for topic in group_topics:
                    mine = [tp for tp in parts if tp.topic == topic]
                    lag = sum(lag_of(high[tp], committed[tp].offset if tp in committed else None) for tp in mine)
                    rows.append({"group": group, "topic": topic, "lag": lag, "joined": group in joined,
                                 "partitions": len(mine)})  # fmt: skip
            return rows
        finally:
            await admin.close()

    async def dead_letter_counts(self) -> list[Json]:
        """Every dead-letter topic: records parked, and how many of them are not yet redriven."""
        summaries = await list_dlts(self._infra)
        return [{"topic": s.topic, "pending": s.records.pending, "total": s.records.total} for s in summaries]

    async def _read(self, topic: str) -> tuple[list[Parked], dict[TopicPartition, int]]:
        """Every record of the dead-letter topic, and the redrive group's committed offset per partition."""
        records: list[Parked] = []
        try:
            async with open_reader(self._infra, [dlt_name(topic)]) as reader:
                committed = await reader.committed()
                await reader.rewind()
                async for batch in reader.batches(self._timeout_s):
                    records.extend(batch)
        except UnknownTopicError as exc:
            raise AppError(ConsoleError.UNKNOWN_TOPIC, topic=dlt_name(topic)) from exc
        except BROKER_ERRORS as exc:
            raise AppError(ConsoleError.BROKER_UNAVAILABLE, reason=repr(exc)) from exc
        return sorted(records, key=lambda p: (p.partition, p.offset)), committed

    async def dead_letters(self, topic: str, limit: int) -> Json:
        """The topic's records, those not yet redriven first, at most ``limit``; with the topic's counts."""
        records, committed = await self._read(topic)
        views = [record_view(p, p.offset < committed.get(TopicPartition(p.dlt_topic, p.partition), 0)) for p in records]
        pending = sum(not v["redriven"] for v in views)
        shown = sorted(views, key=lambda v: (v["redriven"], v["partition"], v["offset"]))[:limit]
        return {"topic": dlt_name(topic), "total": len(views), "pending": pending, "records": shown}

    async def redrive_all(self, topic: str) -> Json:
        try:
            result = await redrive(self._infra, topic)
        except UnknownTopicError as exc:
            raise AppError(ConsoleError.UNKNOWN_TOPIC, topic=dlt_name(topic)) from exc
        except BROKER_ERRORS as exc:
            raise AppError(ConsoleError.BROKER_UNAVAILABLE, reason=repr(exc)) from exc
        return {"topic": result.dlt_topic, "redriven": result.count, "toTopics": dict(result.to_topics)}

    async def redrive_one(self, topic: str, partition: int, offset: int) -> Json:
        records, committed = await self._read(topic)
        dlt, tp = dlt_name(topic), TopicPartition(dlt_name(topic), partition)
        found = next((p for p in records if (p.partition, p.offset) == (partition, offset)), None)
        if found is None:
            raise AppError(ConsoleError.NOT_PARKED, position=f"{dlt}:{partition}:{offset}")
        out = redriven(found)
        try:
            await self._publish_one(out)
            remembered = committed.get(tp, 0) == offset and await self._remember(tp, offset)
        except BROKER_ERRORS as exc:
            raise AppError(ConsoleError.BROKER_UNAVAILABLE, reason=repr(exc)) from exc
        return {"topic": dlt, "redriven": 1, "toTopics": {out.topic: 1}, "position": found.position,
                "alreadyRedriven": offset < committed.get(tp, 0), "remembered": remembered}  # fmt: skip

    async def _publish_one(self, out: Any) -> None:
        publisher = KafkaPublisher(self._infra, client_id="kiwishop-console-redrive")
        try:
            (error,) = await publisher.send_many([out])
        finally:
            await publisher.close()
        if error is not None:
            raise RedriveError(f"the broker did not take the redriven record: {error!r}")

    async def _remember(self, tp: TopicPartition, offset: int) -> bool:
        """Move the redrive group past ``offset`` if it still stands there (nothing else redrove meanwhile)."""
        async with open_reader(self._infra, [tp.topic]) as reader:
            if (await reader.committed()).get(tp, 0) != offset:
                return False
            await reader.commit({tp: offset + 1})
        return True
