"""Kafka clients with the house settings: keyed produce with acks=all, topics created explicitly with a
configured partition count, consumers with manual commits reading from the earliest offset. Every client the
product makes authenticates and encrypts as ``kafka_security_kwargs`` says (SASL/TLS settings of InfraSettings)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError
from aiokafka.helpers import create_ssl_context

from kiwishop.platform.settings import InfraSettings

log = logging.getLogger("kiwishop.kafka")


@dataclass(frozen=True)
class OutgoingRecord:
    topic: str
    key: str
    value: bytes
    headers: tuple[tuple[str, bytes], ...] = ()


def dlt_topic(topic: str) -> str:
    return f"{topic}.DLT"


def kafka_security_kwargs(infra: InfraSettings) -> dict[str, Any]:
    """The security arguments of every aiokafka client the product makes (producer, consumer, admin): nothing
    for PLAINTEXT, so the local stack's clients are built exactly as before; a SASL user and its mechanism for
    SASL_*; a context that verifies the broker's certificate and name for *SSL. A SASL protocol without its
    user fails here, at the first client, instead of as an authentication error that looks like an outage."""
    protocol = infra.kafka_security_protocol
    if protocol == "PLAINTEXT":
        return {}
    kwargs: dict[str, Any] = {"security_protocol": protocol}
    if protocol.startswith("SASL_"):
        password = infra.kafka_sasl_password.get_secret_value()
        if not infra.kafka_sasl_username or not password:
            raise ValueError(f"KIWI_KAFKA_SECURITY_PROTOCOL={protocol} needs KIWI_KAFKA_SASL_USERNAME and _PASSWORD")
        kwargs |= {
            "sasl_mechanism": infra.kafka_sasl_mechanism,
            "sasl_plain_username": infra.kafka_sasl_username,
            "sasl_plain_password": password,
        }
    if protocol.endswith("SSL"):
        kwargs["ssl_context"] = create_ssl_context(cafile=infra.kafka_ssl_cafile or None)
    return kwargs


async def ensure_topics(infra: InfraSettings, topics: Iterable[str], partitions: int | None = None) -> None:
    """Create the topics that do not exist yet (idempotent)."""
    wanted = sorted(set(topics))
    if not wanted:
        return
    admin = AIOKafkaAdminClient(
        bootstrap_servers=infra.kafka_bootstrap_servers,
        request_timeout_ms=infra.kafka_request_timeout_ms,
        **kafka_security_kwargs(infra),
    )
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in wanted if t not in existing]
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(
                    [NewTopic(t, partitions or infra.topic_partitions, infra.topic_replication_factor) for t in missing]
                )
    finally:
        await admin.close()


class KafkaPublisher:
    """A lazily started producer that survives an unreachable broker: every call reports per record
    whether the broker acknowledged it; nothing raises for a broker outage."""

    def __init__(self, infra: InfraSettings, *, client_id: str = "kiwishop", linger_ms: int = 2) -> None:
        self._infra = infra
        self._client_id = client_id
        self._linger_ms = linger_ms
        self._producer: AIOKafkaProducer | None = None
        self._lock = asyncio.Lock()
        self._known_topics: set[str] = set()

    async def _ensure_started(self) -> AIOKafkaProducer:
        async with self._lock:
            if self._producer is None:
                producer = AIOKafkaProducer(
                    bootstrap_servers=self._infra.kafka_bootstrap_servers,
                    client_id=self._client_id,
                    acks="all",
                    enable_idempotence=self._infra.kafka_idempotent_producer,
                    linger_ms=self._linger_ms,
                    request_timeout_ms=self._infra.kafka_request_timeout_ms,
                    max_batch_size=1 << 20,
                    **kafka_security_kwargs(self._infra),
                )
                try:
                    await producer.start()
                except BaseException:
                    await producer.stop()
                    raise
                self._producer = producer
            return self._producer

    async def _ensure_topics(self, topics: set[str]) -> None:
        missing = topics - self._known_topics
        if missing:
            await ensure_topics(self._infra, missing)
            self._known_topics |= missing

    async def send_many(self, records: Sequence[OutgoingRecord]) -> list[BaseException | None]:
        """Send all records pipelined; one entry per record: None when acknowledged, else the error."""
        try:
            await self._ensure_topics({r.topic for r in records})
            producer = await self._ensure_started()
            futures = [
                await producer.send(r.topic, value=r.value, key=r.key.encode(), headers=list(r.headers) or None)
                for r in records
            ]
        except (KafkaError, OSError, TimeoutError) as exc:
            await self._reset()
            return [exc] * len(records)
        results = await asyncio.gather(*futures, return_exceptions=True)
        errors: list[BaseException | None] = [r if isinstance(r, BaseException) else None for r in results]
        if any(errors):
            self._known_topics.clear()
        return errors

    async def send(self, record: OutgoingRecord) -> None:
        """Send one record and raise if it was not acknowledged."""
        (error,) = await self.send_many([record])
        if error is not None:
            raise error

    async def _reset(self) -> None:
        self._known_topics.clear()
        async with self._lock:
            producer, self._producer = self._producer, None
        if producer is not None:
            try:
                await producer.stop()
            except Exception:
                log.debug("discarding a broken producer", exc_info=True)

    async def ping(self) -> None:
        await self._ensure_started()

    async def close(self) -> None:
        await self._reset()


def create_consumer(
    infra: InfraSettings, topics: Sequence[str], group_id: str, *, max_poll_records: int
) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        *topics,
        bootstrap_servers=infra.kafka_bootstrap_servers,
        group_id=group_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=infra.kafka_session_timeout_ms,
        heartbeat_interval_ms=infra.kafka_heartbeat_interval_ms,
        request_timeout_ms=max(infra.kafka_request_timeout_ms, infra.kafka_session_timeout_ms + 5000),
        max_poll_records=max_poll_records,
        max_poll_interval_ms=300_000,
        # The local broker answers a fetch only when its wait expires, so the wait bounds the latency.
        fetch_max_wait_ms=infra.kafka_fetch_max_wait_ms,
        **kafka_security_kwargs(infra),
    )
