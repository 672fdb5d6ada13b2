"""One trace across HTTP and Kafka (platform/tracing.py), with the real servers: a confirm sent with a W3C
``traceparent`` → order's call to the PSP carries that trace → PAYMENT_CONFIRM leaves order's outbox with a
``traceparent`` header of that trace → wallet settles it in a consumer span of that trace and logs so → its
WALLET_SETTLED reply (written by the handler, through wallet's outbox) carries the trace on → order's handling of
the reply logs it too. The request id travels the same way.

Order writes PAYMENT_CONFIRM to the contract's payment topic, where wallet reads it (wallet's topics are not
settings), and reads WALLET_SETTLED from a topic of this test's own (``order_topics.wallet``): the test hands
wallet's reply, headers and all, on to that topic, as the contract's wallet topic would have carried it."""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, ConsumerRecord
from sqlalchemy import text
from starlette.types import ASGIApp, Receive, Scope, Send

from kiwishop.contracts.events import PAYMENT_CONFIRM, WALLET_SETTLED
from kiwishop.order.app import create_app as create_order
from kiwishop.order.settings import OrderSettings
from kiwishop.platform import logs
from kiwishop.platform.db import Database
from kiwishop.platform.envelope import Envelope
from kiwishop.platform.kafka import KafkaPublisher, OutgoingRecord
from kiwishop.platform.settings import InfraSettings
from kiwishop.toss_emulator.app import create_app as create_emulator
from kiwishop.toss_emulator.settings import TossEmulatorSettings
from kiwishop.wallet.app import create_app as create_wallet
from tests.integration.order.conftest import OrderTopics
from tests.integration.order.payments import Emulator, as_buyer, checkout, exact
from tests.integration.seller_wallet.support import migrate_wallet, wallet_settings
from tests.support import emulator_admin, eventually, headers_dict, running_app, served_app


def new_traceparent() -> tuple[str, str]:
    """A caller's ``traceparent`` and its trace id (fresh per test: nothing else in the run shares it)."""
    trace_id, span_id = uuid.uuid4().hex, uuid.uuid4().hex[:16]
    return f"00-{trace_id}-{span_id}-01", trace_id


def trace_of(record: ConsumerRecord[bytes, bytes]) -> str:
    """The trace id of a record's ``traceparent`` header."""
    version, trace_id, span_id, flags = headers_dict(record)["traceparent"].split("-")
    assert (version, len(trace_id), len(span_id), len(flags)) == ("00", 32, 16, 2)
    return trace_id


class JsonLines(logging.Handler):
    """Every log line as the services write it (``logs.json_formatter``, rendered where it was logged, with the
    context variables bound there), parsed back."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logs.json_formatter())
        self.lines: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith("kiwishop."):
            self.lines.append(json.loads(self.format(record)))

    def find(self, logger: str, match: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
        return [line for line in self.lines if line.get("logger") == logger and match(line)]


@contextmanager
def json_logs() -> Iterator[JsonLines]:
    """The root logger's lines at INFO, and the consumer runner's at DEBUG (its per-record "handled" line)."""
    root, consumer = logging.getLogger(), logging.getLogger("kiwishop.consumer")
    levels = root.level, consumer.level
    handler = JsonLines()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    consumer.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(levels[0])
        consumer.setLevel(levels[1])


async def first_record(
    infra: InfraSettings, topic: str, key: str, event_type: str, *, timeout_s: float = 30.0
) -> ConsumerRecord[bytes, bytes]:
    """The first record of ``event_type`` keyed ``key`` on ``topic``, read by a consumer group of this test's own,
    polled until the deadline."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=infra.kafka_bootstrap_servers,
        group_id=f"test-trace-{uuid.uuid4().hex}",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=2000,
        heartbeat_interval_ms=500,
    )
    await consumer.start()
    try:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for records in (await consumer.getmany(timeout_ms=200)).values():
                for record in records:
                    if record.key == key.encode() and Envelope.from_record(record.key, record.value).type == event_type:
                        return record
    finally:
        await consumer.stop()
    raise AssertionError(f"no {event_type} for {key} on {topic} within {timeout_s}s")


async def wallet_done(db: Database, order_id: str) -> bool:
    async with db.engine.connect() as conn:
        found = await conn.execute(
            text("SELECT is_wallet_done FROM payment_events WHERE order_id = :o"), {"o": order_id}
        )
        return bool(found.scalar_one())


async def confirm_traced(
    order: httpx.AsyncClient, created: dict[str, Any], payment_key: str, traceparent: str, request_id: str
) -> httpx.Response:
    body = {"paymentKey": payment_key, "orderId": created["orderId"], "amount": str(created["amount"])}
    headers = {**as_buyer(created["orderId"]), "traceparent": traceparent, "x-request-id": request_id}
    return await order.post("/api/payments/confirm", json=body, headers=headers)


async def test_a_traced_confirm_keeps_its_trace_through_kafka_to_wallet_and_back_to_order(
    order_settings: Callable[..., OrderSettings],
    emulator_url: str,
    emulator: Emulator,
    order_db: Database,
    order_topics: OrderTopics,
    infra: InfraSettings,
) -> None:
    await migrate_wallet(infra)  # the wallet tests' schema; its seed is seller 1's wallet (product 1's seller)
    traceparent, trace_id = new_traceparent()
    request_id = f"req-{uuid.uuid4().hex[:12]}"
    settings = order_settings(toss_api_url=emulator_url, payment_topic=PAYMENT_CONFIRM.topic)
    with json_logs() as lines:
        async with running_app(create_order(settings)) as order, running_app(create_wallet(wallet_settings(infra))):
            created = await checkout(order, [1])
            order_id = created["orderId"]
            payment_key = await emulator.authorise(order_id, created["amount"])
            response = await confirm_traced(order, created, payment_key, traceparent, request_id)
            assert response.status_code == 200, response.text
            assert response.headers["x-request-id"] == request_id

            confirm = await first_record(infra, PAYMENT_CONFIRM.topic, order_id, PAYMENT_CONFIRM.name)
            assert trace_of(confirm) == trace_id
            assert headers_dict(confirm)["traceparent"] != traceparent  # order's own span, a child of the caller's
            assert headers_dict(confirm)["x-request-id"] == request_id

            async def settlement_lines() -> list[dict[str, Any]]:
                return lines.find(
                    "kiwishop.wallet.settlement", lambda line: f"order {order_id} settled" in line["event"]
                )

            (settled_line,) = await eventually(settlement_lines, bool, timeout_s=30)
            assert settled_line["event"] == f"order {order_id} settled: 1 line(s) credited"
            assert (settled_line["trace_id"], settled_line["request_id"]) == (trace_id, request_id)
            assert settled_line["event_type"] == PAYMENT_CONFIRM.name

            reply = await first_record(infra, WALLET_SETTLED.topic, order_id, WALLET_SETTLED.name)
            assert trace_of(reply) == trace_id
            assert headers_dict(reply)["x-request-id"] == request_id
            publisher = KafkaPublisher(infra)
            try:
                await publisher.send(
                    OutgoingRecord(order_topics.wallet, order_id, reply.value or b"", tuple(reply.headers or ()))
                )
            finally:
                await publisher.close()
            await eventually(lambda: wallet_done(order_db, order_id), bool, timeout_s=30)

    reply_id = Envelope.from_record(reply.key, reply.value).event_id
    handled = lines.find("kiwishop.consumer", lambda line: line.get("event_id") == reply_id)
    assert [(line["event_type"], line["trace_id"], line["request_id"]) for line in handled] == [
        (WALLET_SETTLED.name, trace_id, request_id)
    ]
    confirm_lines = [line for line in lines.lines if line.get("request_id") == request_id]
    assert {line["trace_id"] for line in confirm_lines} == {trace_id}  # every line of the payment: one trace


class HeaderRecorder:
    """Notes the headers of every request an app receives, before the app sees it."""

    def __init__(self, app: ASGIApp, seen: list[tuple[str, dict[str, str]]]) -> None:
        self.app, self.seen = app, seen

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
            self.seen.append((scope["path"], headers))
        await self.app(scope, receive, send)


async def test_orders_call_to_the_psp_carries_the_confirms_trace(
    order_settings: Callable[..., OrderSettings],
) -> None:
    seen: list[tuple[str, dict[str, str]]] = []
    psp = create_emulator(TossEmulatorSettings(hang_s=2.0, webhook_url=""))
    psp.add_middleware(HeaderRecorder, seen=seen)
    traceparent, trace_id = new_traceparent()
    request_id = f"req-{uuid.uuid4().hex[:12]}"
    async with served_app(psp) as psp_url, running_app(create_order(order_settings(toss_api_url=psp_url))) as order:
        async with httpx.AsyncClient(base_url=psp_url, headers=emulator_admin()) as admin:
            created = await checkout(order, [1])
            made = await admin.post(
                "/emulator/payments",
                json={"orderId": created["orderId"], "amount": int(created["amount"]), "orderName": "주문"},
            )
            payment_key = str(exact(made)["paymentKey"])
        response = await confirm_traced(order, created, payment_key, traceparent, request_id)
        assert response.status_code == 200, response.text
    calls = [headers for path, headers in seen if path == "/v1/payments/confirm"]
    assert calls, [path for path, _ in seen]
    for headers in calls:
        version, called_trace, span_id, _ = headers["traceparent"].split("-")
        assert (version, called_trace) == ("00", trace_id)
        assert span_id != traceparent.split("-")[2]  # sent from order's server span, not the caller's
        assert headers["x-request-id"] == request_id
