"""ConsumerRunner while its database cannot be reached (as during a MariaDB restart): a record waits for the
database instead of being parked, and a record still waiting at stop is left for the next consumer."""

from __future__ import annotations

import asyncio

from kiwishop.platform.db import Database
from kiwishop.platform.envelope import Envelope
from kiwishop.platform.inbox import idempotent
from kiwishop.platform.kafka import KafkaPublisher
from kiwishop.platform.settings import InfraSettings
from tests.integration.platform.consumer_support import bump, hits, record, run_consumer, unreachable_database
from tests.support import eventually, read_to_end, unique


async def test_a_handler_that_cannot_reach_the_database_waits_for_it_instead_of_being_parked(
    infra: InfraSettings, db: Database, publisher: KafkaPublisher, topic: str
) -> None:
    """Found by the fault drill: a MariaDB restart longer than the retries (1 s, 2 s, 4 s) parked valid
    PAYMENT_CONFIRM and WALLET_SETTLED records, leaving paid orders unsettled."""
    down = unreachable_database(infra)
    calls: list[int] = []

    async def during_an_outage(envelope: Envelope) -> None:
        calls.append(envelope.event_id)
        target = down if len(calls) <= 6 else db  # twice as many failures as the retry budget allows
        await idempotent(target, "test", bump("x"))(envelope)

    await publisher.send(record(topic, 10001, target="after-outage"))
    runner = await run_consumer(infra, publisher, topic, {"BUMP": during_an_outage})
    try:
        await eventually(lambda: hits(db, "after-outage"), lambda n: n == 1, timeout_s=30)
    finally:
        await runner.stop()
        await down.close()
    assert len(calls) == 7
    assert await read_to_end(infra, f"{topic}.DLT") == []


async def test_a_record_waiting_for_the_database_at_stop_is_left_for_the_next_consumer(
    infra: InfraSettings, db: Database, publisher: KafkaPublisher, topic: str
) -> None:
    down = unreachable_database(infra)
    attempts: list[int] = []

    async def outage(envelope: Envelope) -> None:
        attempts.append(envelope.event_id)
        await idempotent(down, "test", bump("x"))(envelope)

    group = unique("grp")
    await publisher.send(record(topic, 11001, target="handed-over"))
    runner = await run_consumer(infra, publisher, topic, {"BUMP": outage}, group=group)
    try:
        await eventually(lambda: asyncio.sleep(0, len(attempts)), lambda n: n >= 2, timeout_s=30)
    finally:
        await runner.stop()
        await down.close()
    runner = await run_consumer(infra, publisher, topic, {"BUMP": idempotent(db, "test", bump("x"))}, group=group)
    try:
        await eventually(lambda: hits(db, "handed-over"), lambda n: n == 1, timeout_s=30)
    finally:
        await runner.stop()
    assert await read_to_end(infra, f"{topic}.DLT") == []
