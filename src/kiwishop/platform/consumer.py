"""The consumer runner: decode, dispatch by event type and version, retry, dead-letter, commit — never stop.

Per record: the envelope is decoded (undecodable → DLT at once) and dispatched (``dispatch.py``): a record of
a handled type goes to its handler if its version is one the handler accepts (``versions``; otherwise DLT at
once), a record of one of ``other_types`` — types the contracts put on these topics for other consumers — is
skipped, any other type is unknown (DLT at once). A handler's ``PermanentError`` (an invalid payload: no
retry can fix it) parks the record in ``<topic>.DLT`` at once. Any other failure:

- on a **money topic** (``money_topics``: payments and wallet results) the record is retried with capped
  exponential backoff for as long as it takes — never parked, since parking money means losing it until a
  person notices; every failed attempt is counted (``kiwi_consumer_retries``) and logged, loudly from the
  tenth on;
- elsewhere, a failure that says the database, Redis or the id generator is unavailable right now (a
  connection lost, a pool timeout, a read-only failover, lock waits or version conflicts that outlasted
  their own retries) waits the same way — nothing is wrong with the record; any other failure is retried
  with the configured backoff (default 1 s, 2 s, 4 s), then exactly one copy of the original record goes to
  ``<topic>.DLT`` with headers naming the error and the original topic, partition and offset.

Each record is handled in a consumer span continuing the trace context in its headers (``tracing.py``); a parked
record keeps its headers. A stop while a record waits leaves it uncommitted for the next owner. Offsets are
committed after the handlers' DB commits. Partitions of one poll are handled concurrently, records of one
partition in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from typing import Any

import redis.exceptions
import sqlalchemy.exc
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.structs import OffsetAndMetadata
from opentelemetry.trace import Tracer

from kiwishop.platform import logs, tracing
from kiwishop.platform.db import is_transient, is_unavailable
from kiwishop.platform.dispatch import Dispatch, Unroutable
from kiwishop.platform.envelope import Envelope, EnvelopeError
from kiwishop.platform.kafka import KafkaPublisher, OutgoingRecord, create_consumer, dlt_topic
from kiwishop.platform.metrics import Metrics
from kiwishop.platform.settings import InfraSettings

log = logging.getLogger("kiwishop.consumer")

Handler = Callable[[Envelope], Awaitable[None]]
OUTAGE_BACKOFF_MAX_S = 30.0
LOUD_AFTER_ATTEMPTS = 10


def infrastructure_down(exc: BaseException) -> bool:
    """The handler could not use its database or Redis right now (not the record's fault): the server is
    unreachable or read-only, the pool is exhausted, locks or version conflicts outlasted their retries."""
    if is_unavailable(exc) or is_transient(exc) or isinstance(exc, sqlalchemy.exc.TimeoutError):
        return True
    return isinstance(exc, (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError))


class PermanentError(Exception):
    """A failure that no retry can fix (invalid payload): the record goes to the DLT at once."""


class ConsumerRunner:
    def __init__(
        self,
        infra: InfraSettings,
        *,
        group_id: str,
        topics: Sequence[str],
        handlers: Mapping[str, Handler],
        publisher: KafkaPublisher,
        metrics: Metrics | None = None,
        versions: Mapping[str, Collection[int]] | None = None,
        other_types: Collection[str] = (),
        money_topics: Collection[str] = (),
        retry_backoff_s: Sequence[float] = (1.0, 2.0, 4.0),
        max_poll_records: int = 100,
        tracer: Tracer | None = None,
    ) -> None:
        self._infra = infra
        self._tracer = tracer or tracing.tracer("kiwishop", infra)
        self.group_id = group_id
        self._topics = list(topics)
        self._dispatch = Dispatch(handlers, versions, other_types)
        self._money = set(money_topics)
        self._publisher = publisher
        self._metrics = metrics
        self._backoff = list(retry_backoff_s)
        self._max_poll = max_poll_records
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self.joined = False  # holds partitions (or has waited long enough to know it gets none)
        self._started_at = 0.0

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def start(self) -> None:
        self._stopping.clear()
        self._started_at = time.monotonic()
        self._task = asyncio.create_task(self._run(), name=f"consumer-{self.group_id}")

    async def check_joined(self) -> None:
        """For readiness: raise until this consumer takes part in its group (events would wait otherwise)."""
        if not self.running:
            raise RuntimeError(f"consumer {self.group_id} is not running")
        if not self.joined:
            raise RuntimeError(f"consumer {self.group_id} has not joined its group yet")

    async def stop(self) -> None:
        self._stopping.set()
        if self._task is not None:
            await self._task
            self._task = None

    async def _run(self) -> None:
        while not self._stopping.is_set():
            consumer = create_consumer(self._infra, self._topics, self.group_id, max_poll_records=self._max_poll)
            try:
                await consumer.start()
                self._consumer = consumer
                await self._poll_loop(consumer)
            except Exception:
                log.exception("consumer %s failed; reconnecting", self.group_id)
                await self._sleep(1.0)
            finally:
                self._consumer = None
                try:
                    await consumer.stop()
                except Exception:
                    log.debug("consumer stop failed", exc_info=True)

    async def _poll_loop(self, consumer: AIOKafkaConsumer) -> None:
        patience = 3 * self._infra.kafka_session_timeout_ms / 1000  # more members than partitions: none for us
        while not self._stopping.is_set():
            if not self.joined and (consumer.assignment() or time.monotonic() - self._started_at > patience):
                self.joined = True
            batch = await consumer.getmany(timeout_ms=200, max_records=self._max_poll)
            # getmany fills max_records from one partition first, which under a backlog would handle the
            # partitions one after the other: take what is already fetched for the others too.
            for tp in consumer.assignment() - batch.keys():
                batch.update(await consumer.getmany(tp, timeout_ms=0, max_records=self._max_poll))
            if not batch:
                continue
            results = await asyncio.gather(*(self._handle_partition(tp, recs) for tp, recs in batch.items()))
            offsets = {tp: OffsetAndMetadata(offset, "") for tp, offset in results if offset is not None}
            if offsets:
                await consumer.commit(offsets)
            self._report_lag(consumer, offsets)

    async def _handle_partition(
        self, tp: TopicPartition, records: list[ConsumerRecord[Any, Any]]
    ) -> tuple[TopicPartition, int | None]:
        next_offset: int | None = None
        for record in records:
            if self._stopping.is_set() and next_offset is not None:
                break  # graceful stop: commit what is done, leave the rest for the next owner
            if not await self._handle_record(record):
                break  # stopped while waiting for the database: this record is the next owner's
            next_offset = record.offset + 1
        return tp, next_offset

    async def _handle_record(self, record: ConsumerRecord[Any, Any]) -> bool:
        """Handle (or park) the record in a consumer span, a child of the context that wrote it (its headers;
        none: a new trace); False if it was left unhandled because the runner is stopping."""
        with tracing.record_span(self._tracer, record.topic, record.headers):
            return await self._handle(record)

    async def _handle(self, record: ConsumerRecord[Any, Any]) -> bool:
        try:
            envelope = Envelope.from_record(record.key, record.value)
        except EnvelopeError as exc:
            await self._dead_letter(record, exc)
            return True
        try:
            handler = self._dispatch.handler(envelope.type, envelope.version)
        except Unroutable as exc:
            await self._dead_letter(record, PermanentError(str(exc)))
            return True
        if handler is None:
            self._count(record, "ignored")  # a type of the topic's contract that is for other consumers
            return True
        logs.bind(event_id=envelope.event_id, event_type=envelope.type)
        try:
            return await self._run_with_retries(record, envelope, handler)
        finally:
            logs.unbind("event_id", "event_type")

    async def _run_with_retries(self, record: ConsumerRecord[Any, Any], envelope: Envelope, handler: Handler) -> bool:
        attempt = 0  # failures counted against the record's retry budget (non-money topics only)
        waits = 0  # failures waited out (money topics, or infrastructure down)
        outage_wait = self._backoff[0] if self._backoff else 1.0
        while True:
            try:
                await handler(envelope)
                self._count(record, "ok")
                log.debug("event %s (%s) handled", envelope.event_id, envelope.type)
                return True
            except PermanentError as exc:
                await self._dead_letter(record, exc)
                return True
            except Exception as exc:
                if record.topic in self._money or infrastructure_down(exc):
                    if self._stopping.is_set():
                        return False
                    waits += 1
                    self._note_waiting(record, envelope, waits, outage_wait, exc)
                    await self._sleep(outage_wait)
                    outage_wait = min(outage_wait * 2, OUTAGE_BACKOFF_MAX_S)
                    continue
                if attempt >= len(self._backoff):
                    log.exception("giving up on event %s after %d attempts", envelope.event_id, attempt + 1)
                    await self._dead_letter(record, exc)
                    return True
                log.warning(
                    "event %s failed (attempt %d), retrying in %.1fs: %r",
                    envelope.event_id,
                    attempt + 1,
                    self._backoff[attempt],
                    exc,
                )
                await asyncio.sleep(self._backoff[attempt])
                attempt += 1

    def _note_waiting(
        self, record: ConsumerRecord[Any, Any], envelope: Envelope, waits: int, wait_s: float, exc: BaseException
    ) -> None:
        """A record that keeps failing is visible: a counter per group and topic, and a log line per attempt."""
        if self._metrics is not None:
            self._metrics.consumer_retries.labels(self.group_id, record.topic).inc()
        level = logging.ERROR if waits >= LOUD_AFTER_ATTEMPTS else logging.WARNING
        log.log(
            level,
            "event %s (%s) on %s[%d]@%d failed %d time(s), trying again in %.1fs (never parked here): %r",
            envelope.event_id,
            envelope.type,
            record.topic,
            record.partition,
            record.offset,
            waits,
            wait_s,
            exc,
        )

    async def _dead_letter(self, record: ConsumerRecord[Any, Any], error: BaseException) -> None:
        headers = (
            *tuple(record.headers or ()),
            ("kiwi.dlt.error", f"{type(error).__name__}: {error}"[:1000].encode()),
            ("kiwi.dlt.original.topic", record.topic.encode()),
            ("kiwi.dlt.original.partition", str(record.partition).encode()),
            ("kiwi.dlt.original.offset", str(record.offset).encode()),
            ("kiwi.dlt.consumer.group", self.group_id.encode()),
        )
        key = record.key.decode("utf-8", "replace") if record.key else ""
        out = OutgoingRecord(dlt_topic(record.topic), key, record.value or b"", headers)
        delay = 0.5
        while True:  # the record must be parked before its offset may be committed
            try:
                await self._publisher.send(out)
                break
            except Exception:
                log.exception("could not publish to %s; retrying", out.topic)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
        if self._consumer is not None:  # commit now, so a crash right after cannot park it twice
            tp = TopicPartition(record.topic, record.partition)
            try:
                await self._consumer.commit({tp: OffsetAndMetadata(record.offset + 1, "")})
            except Exception:
                log.warning("could not commit the parked record's offset", exc_info=True)
        log.error("parked record %s[%d]@%d in %s: %s", record.topic, record.partition, record.offset, out.topic, error)
        self._count(record, "dead_lettered")
        if self._metrics is not None:
            self._metrics.dlt.labels(self.group_id, record.topic).inc()

    def _count(self, record: ConsumerRecord[Any, Any], outcome: str) -> None:
        if self._metrics is not None:
            self._metrics.consumed.labels(self.group_id, record.topic, outcome).inc()

    def _report_lag(self, consumer: AIOKafkaConsumer, committed: Mapping[TopicPartition, OffsetAndMetadata]) -> None:
        if self._metrics is None:
            return
        for tp, offset in committed.items():
            high = consumer.highwater(tp)  # from the fetch responses; the broker's end offsets are unreliable
            if high is not None:
                self._metrics.consumer_lag.labels(self.group_id, tp.topic, str(tp.partition)).set(
                    max(0, high - offset.offset)
                )

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)
