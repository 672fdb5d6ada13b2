"""Trace context through the outbox and Kafka (platform/tracing.py) against the real broker and MariaDB: an outbox
row keeps the context of the span that wrote it, the relay sends it as headers, the consumer runs each record in
a span continuing it (a record without headers: a new trace), and a parked record keeps its headers."""

from __future__ import annotations

import uuid
from typing import Any

import structlog

from kiwishop.platform import tracing
from kiwishop.platform.consumer import PermanentError
from kiwishop.platform.db import Database
from kiwishop.platform.envelope import Envelope
from kiwishop.platform.ids import Snowflake
from kiwishop.platform.kafka import KafkaPublisher, OutgoingRecord
from kiwishop.platform.outbox import Outbox
from kiwishop.platform.relay import OutboxRelay
from kiwishop.platform.settings import InfraSettings
from tests.integration.platform.consumer_support import record, run_consumer
from tests.support import eventually, headers_dict, read_to_end, read_topic

IDS = Snowflake(77)


def caller() -> tuple[str, str]:
    trace_id = uuid.uuid4().hex
    return f"00-{trace_id}-{uuid.uuid4().hex[:16]}-01", trace_id


async def test_the_relay_sends_the_writers_trace_context_and_request_id_as_headers(
    infra: InfraSettings, db: Database, publisher: KafkaPublisher, topic: str
) -> None:
    traceparent, trace_id = caller()
    outbox = Outbox(IDS)
    parent = tracing.extract({"traceparent": traceparent, "tracestate": "shop=kiwi"})
    with tracing.span(tracing.tracer("it-relay"), "POST /x", tracing.SERVER, parent=parent, request_id="req-relay"):
        writer = tracing.current_traceparent()
        async with db.uow() as uow:
            traced = await outbox.add(uow, topic=topic, key="k", event_type="BUMP", payload={"n": 1})
            await uow.commit()
    async with db.uow() as uow:  # outside any span: a row without trace context
        plain = await outbox.add(uow, topic=topic, key="k", event_type="BUMP", payload={"n": 2})
        await uow.commit()
    relay = OutboxRelay(db, publisher, poll_interval_s=0.05)
    assert await relay.relay_once() == 2
    by_event = {Envelope.from_record(r.key, r.value).event_id: r for r in await read_to_end(infra, topic)}
    sent = headers_dict(by_event[traced.event_id])
    assert sent == {"traceparent": writer, "tracestate": "shop=kiwi", "x-request-id": "req-relay"}
    assert str(writer).split("-")[1] == trace_id
    assert by_event[plain.event_id].headers in ((), None, [])


async def test_each_record_is_handled_in_a_span_continuing_its_headers_or_in_a_new_trace(
    infra: InfraSettings, publisher: KafkaPublisher, topic: str
) -> None:
    traceparent, trace_id = caller()
    seen: dict[int, dict[str, Any]] = {}

    async def handler(envelope: Envelope) -> None:
        seen[envelope.event_id] = {**structlog.contextvars.get_contextvars(), "sent": tracing.current_traceparent()}

    async def handled() -> set[int]:
        return set(seen)

    headers = (("traceparent", traceparent.encode()), ("x-request-id", b"req-k"))
    with_headers = record(topic, 5001)
    await publisher.send(OutgoingRecord(topic, with_headers.key, with_headers.value, headers))
    await publisher.send(record(topic, 5002))
    await publisher.send(record(topic, 5003))
    runner = await run_consumer(infra, publisher, topic, {"BUMP": handler})
    try:
        await eventually(handled, lambda keys: keys >= {5001, 5002, 5003}, timeout_s=20)
    finally:
        await runner.stop()
    traced = seen[5001]
    assert (traced["trace_id"], traced["request_id"], traced["event_id"]) == (trace_id, "req-k", 5001)
    assert traced["sent"] == f"00-{trace_id}-{traced['span_id']}-01"  # the consumer's own span, child of the writer
    assert traced["span_id"] != traceparent.split("-")[2]
    fresh = [seen[5002], seen[5003]]
    assert all(len(f["trace_id"]) == 32 and f["trace_id"] != trace_id for f in fresh)
    assert fresh[0]["trace_id"] != fresh[1]["trace_id"]
    assert all("request_id" not in f for f in fresh)


async def test_a_parked_record_keeps_its_trace_headers(
    infra: InfraSettings, publisher: KafkaPublisher, topic: str
) -> None:
    traceparent, _ = caller()

    async def refuse(envelope: Envelope) -> None:
        raise PermanentError("invalid payload")

    poison = record(topic, 6001)
    headers = (("traceparent", traceparent.encode()), ("tracestate", b"shop=kiwi"), ("x-request-id", b"req-p"))
    await publisher.send(OutgoingRecord(topic, poison.key, poison.value, headers))
    runner = await run_consumer(infra, publisher, topic, {"BUMP": refuse})
    try:
        (parked,) = await read_topic(infra, f"{topic}.DLT", expect=1)
    finally:
        await runner.stop()
    kept = headers_dict(parked)
    assert (kept["traceparent"], kept["tracestate"], kept["x-request-id"]) == (traceparent, "shop=kiwi", "req-p")
    assert kept["kiwi.dlt.error"].startswith("PermanentError")
