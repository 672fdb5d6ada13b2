"""Poison records for the fault drills, and the check that each one was parked exactly once per consumer group.

Per business topic, one round injects two records with a key of their own: bytes that are not JSON
(``undecodable``) and a well-formed envelope of a type no consumer knows (``unknown-type``). Every consumer
group that reads the topic must put each of them into ``<topic>.DLT`` exactly once (a DLT record names
its group in the header ``kiwi.dlt.consumer.group``) — and no other record may end up there.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer

from kiwishop.contracts.topics import BUSINESS_TOPICS, PAYMENT, PRODUCT_LIKE, PRODUCT_REVIEW, SELLER, WALLET
from kiwishop.platform.envelope import Envelope
from kiwishop.platform.kafka import KafkaPublisher, OutgoingRecord, dlt_topic
from kiwishop.platform.settings import InfraSettings

# Who reads what (the services' ``runtime.consume`` calls; tests/e2e/test_drills.py checks this table
# against the apps themselves).
GROUPS: dict[str, frozenset[str]] = {
    PAYMENT: frozenset({"wallet-settlement", "hot-catalog-service", "order-query"}),
    PRODUCT_LIKE: frozenset({"hot-catalog-service"}),
    PRODUCT_REVIEW: frozenset({"hot-catalog-service"}),
    WALLET: frozenset({"order-wallet-result", "seller-registration"}),
    SELLER: frozenset({"wallet-creation", "catalog-seller"}),
}
GROUP_HEADER = "kiwi.dlt.consumer.group"
KINDS = ("undecodable", "unknown-type")


@dataclass
class Injected:
    keys: dict[str, str] = field(default_factory=dict)  # key → topic


async def inject(infra: InfraSettings, label: str) -> Injected:
    """Publish one undecodable and one unknown-type record to every business topic."""
    publisher = KafkaPublisher(infra, client_id="drill-poison")
    injected = Injected()
    records = []
    for topic in BUSINESS_TOPICS:
        for kind in KINDS:
            key = f"poison-{label}-{kind}-{topic}-{uuid.uuid4().hex[:8]}"
            if kind == "undecodable":
                value = b"\xff\xfe not json {" + key.encode()
            else:
                envelope = Envelope(event_id=time.time_ns() // 1000, type="DRILL_UNKNOWN_EVENT", payload={}, key=key)
                value = envelope.to_json()
            records.append(OutgoingRecord(topic, key, value))
            injected.keys[key] = topic
    try:
        errors = await publisher.send_many(records)
    finally:
        await publisher.close()
    failed = [e for e in errors if e is not None]
    if failed:
        raise RuntimeError(f"could not inject poison records: {failed[0]!r}")
    return injected


@dataclass
class DeadLetters:
    """Every record of the DLT topics: (key, consumer group) → how many times it was parked."""

    parked: Counter[tuple[str, str]] = field(default_factory=Counter)
    total: int = 0

    def problems(self, injected: Injected) -> list[str]:
        """What differs from "each poison record once per group that reads its topic, nothing else"."""
        found = []
        for key, topic in sorted(injected.keys.items()):
            for group in sorted(GROUPS[topic]):
                n = self.parked.get((key, group), 0)
                if n != 1:
                    found.append(f"{key} parked {n} times by {group}")
        expected = {(k, g) for k, t in injected.keys.items() for g in GROUPS[t]}
        for (key, group), n in sorted(self.parked.items()):
            if (key, group) not in expected:
                found.append(f"unexpected dead letter: key {key!r} parked {n} times by {group}")
        return found

    def by_topic(self, injected: Injected) -> dict[str, dict[str, int]]:
        """topic → group → poison records parked (for the report)."""
        table: dict[str, dict[str, int]] = defaultdict(dict)
        for (key, group), n in self.parked.items():
            topic = injected.keys.get(key)
            if topic is not None:
                table[topic][group] = table[topic].get(group, 0) + n
        return dict(table)


async def read_dead_letters(infra: InfraSettings, idle_s: float = 1.5) -> DeadLetters:
    topics = [dlt_topic(t) for t in BUSINESS_TOPICS]
    consumer = AIOKafkaConsumer(
        *topics,
        bootstrap_servers=infra.kafka_bootstrap_servers,
        group_id=f"drill-dlt-reader-{uuid.uuid4().hex}",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=infra.kafka_session_timeout_ms,
        heartbeat_interval_ms=infra.kafka_heartbeat_interval_ms,
    )
    letters = DeadLetters()
    await consumer.start()
    try:
        joined_by = time.monotonic() + 20
        while not consumer.assignment() and time.monotonic() < joined_by:
            await consumer.getmany(timeout_ms=200)
        last = time.monotonic()
        while time.monotonic() - last < idle_s:
            for records in (await consumer.getmany(timeout_ms=200)).values():
                last = time.monotonic()
                for record in records:
                    headers = {name: value for name, value in record.headers or ()}
                    group = headers.get(GROUP_HEADER, b"?").decode("utf-8", "replace")
                    key = record.key.decode("utf-8", "replace") if record.key else ""
                    letters.parked[(key, group)] += 1
                    letters.total += 1
    finally:
        await consumer.stop()
    return letters
