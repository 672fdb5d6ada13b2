"""Helpers shared by the test tiers: polling with a deadline, reading topics, building apps."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from functools import cache
from typing import Any, TypeVar, cast

import httpx
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from fastapi import FastAPI

from kiwishop.platform.settings import InfraSettings
from kiwishop_dev.tokens import TokenMint

T = TypeVar("T")


@cache
def tokens() -> TokenMint:
    """Tokens signed with the run's key (tests/conftest.py), which every service in a test verifies against:
    ``tokens().as_member(3)`` is the headers of member 3's request, ``as_seller(1)``, ``as_ops()`` likewise."""
    return TokenMint(os.environ["KIWI_IDENTITY_SIGNING_KEY"])


def as_member(member_no: int) -> dict[str, str]:
    return tokens().as_member(member_no)


def as_seller(seller_no: int) -> dict[str, str]:
    return tokens().as_seller(seller_no)


def as_ops() -> dict[str, str]:
    return tokens().as_ops()


async def eventually(
    probe: Callable[[], Awaitable[T]], check: Callable[[T], bool], *, timeout_s: float = 10.0, interval_s: float = 0.05
) -> T:
    """Poll ``probe`` until ``check(value)`` holds; fail with the last value when the deadline passes."""
    deadline = time.monotonic() + timeout_s
    value = await probe()
    while not check(value):
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout_s}s; last value: {value!r}")
        await asyncio.sleep(interval_s)
        value = await probe()
    return value


async def read_topic(
    infra: InfraSettings, topic: str, *, expect: int | None = None, idle_s: float = 1.0, timeout_s: float = 20.0
) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record on ``topic`` from the beginning (fresh consumer group).

    Reads until ``expect`` records arrived (then one more idle period, to catch extras), or until the topic
    stayed idle for ``idle_s`` seconds.
    """
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=infra.kafka_bootstrap_servers,
        group_id=f"test-reader-{uuid.uuid4().hex}",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=2000,
        heartbeat_interval_ms=500,
    )
    await consumer.start()
    records: list[ConsumerRecord[bytes, bytes]] = []
    try:
        deadline = time.monotonic() + timeout_s
        last_new = time.monotonic()
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=200)
            for recs in batch.values():
                records.extend(recs)
                last_new = time.monotonic()
            reached = expect is not None and len(records) >= expect
            if (reached or expect is None) and time.monotonic() - last_new > idle_s:
                break
    finally:
        await consumer.stop()
    return records


async def read_to_end(
    infra: InfraSettings, topic: str, *, timeout_s: float = 20.0
) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record ``topic`` holds now: each partition read from its first offset up to its end as the broker
    reports it on this call's first fetch (positive evidence that nothing published before that point was
    missed; no idle window). A topic the broker does not know holds nothing.

    To show that something was *not* published, first get evidence that it would be there by now (a record
    published after it, a consumer's committed offset past its cause), then read to the end.

    The end of a partition is the high watermark of its first fetch: Tansu answers ListOffsets(latest) with the
    base offset of the last batch + 1 (too low after a batch of several records), but never with more than 0
    for an empty partition, so that answer only tells which partitions are empty."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=infra.kafka_bootstrap_servers,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        request_timeout_ms=infra.kafka_request_timeout_ms,
    )
    await consumer.start()
    records: list[ConsumerRecord[bytes, bytes]] = []
    try:
        if topic not in await consumer.topics():
            return []
        parts = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        consumer.assign(parts)
        listed: dict[TopicPartition, int] = await consumer.end_offsets(parts)
        ends = {tp: 0 for tp, end in listed.items() if end == 0}  # empty
        await consumer.seek_to_beginning(*parts)
        deadline = time.monotonic() + timeout_s
        while True:
            for tp in parts:
                high = consumer.highwater(tp)
                if tp not in ends and high is not None:
                    ends[tp] = max(high, listed[tp])
            behind = [tp for tp in parts if tp not in ends or await consumer.position(tp) < ends[tp]]
            if not behind:
                break
            if time.monotonic() > deadline:
                raise AssertionError(f"{topic}: not read to its end {ends} (listed {listed}) within {timeout_s}s")
            batch = await consumer.getmany(*behind, timeout_ms=200)
            for tp, recs in batch.items():
                end = ends.setdefault(tp, max(consumer.highwater(tp) or recs[-1].offset + 1, listed[tp]))
                records.extend(r for r in recs if r.offset < end)
    finally:
        await consumer.stop()
    return sorted(records, key=lambda r: (r.partition, r.offset))


async def committed_offset(infra: InfraSettings, group: str, topic: str, partition: int) -> int:
    """The next offset ``group`` committed for the partition (0 when it never committed): every record below
    it was consumed and its effect committed (the runners commit offsets after their database commit)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=infra.kafka_bootstrap_servers, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        return int(await consumer.committed(TopicPartition(topic, partition)) or 0)
    finally:
        await consumer.stop()


async def consumed_past(
    infra: InfraSettings, group: str, record: ConsumerRecord[Any, Any], *, timeout_s: float = 30.0
) -> None:
    """Wait until ``group`` committed an offset past ``record``: the record was consumed (handled, skipped or
    parked) — positive evidence, not a pause."""
    await eventually(
        lambda: committed_offset(infra, group, record.topic, record.partition),
        lambda offset: offset > record.offset,
        timeout_s=timeout_s,
    )


@asynccontextmanager
async def running_app(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Run the app's lifespan and give an in-process HTTP client for it."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


def unique(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def headers_dict(record: ConsumerRecord[Any, Any]) -> dict[str, str]:
    return {k: v.decode() for k, v in (record.headers or ())}


@asynccontextmanager
async def served_app(app: FastAPI) -> AsyncIterator[str]:
    """Serve the app over real HTTP on 127.0.0.1 inside this event loop and yield its base URL.

    The socket is bound here (port 0), so there is no race for a "free" port. The app's lifespan runs
    (relays, consumers, workers) as in production.
    """
    import uvicorn

    from kiwishop.platform.httpclient import SERVER_KEEP_ALIVE_S

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, log_config=None, access_log=False, lifespan="on", timeout_keep_alive=SERVER_KEEP_ALIVE_S
    )
    server = uvicorn.Server(config)
    server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign,assignment]  # the test runner owns signals
    task = asyncio.create_task(server.serve(sockets=[sock]))
    deadline = time.monotonic() + 30
    try:
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError("server stopped during start-up")
            if time.monotonic() > deadline:
                raise TimeoutError("server did not start")
            await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()


_HELD: list[socket.socket] = []


def dead_port() -> int:
    """A loopback port where nobody listens, and nobody can start to: it stays bound (never listening) by this
    process until it exits, so a connection is refused, while a port probed free and let go could be taken by
    any other process a moment later."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    _HELD.append(sock)
    return cast(int, sock.getsockname()[1])


def dead_url() -> str:
    """A loopback address nobody listens on (a peer that is down); see ``dead_port``."""
    return f"http://127.0.0.1:{dead_port()}"


def on_free_port(start: Callable[[int], T], *, attempts: int = 5) -> T:
    """``start(port)`` a server process on a port the kernel just called free. A process cannot be handed a bound
    socket, so another process may take the port between the probe and the server's own bind; that start
    fails (the port is busy, or the server exits), and this tries again on another port."""
    from kiwishop_dev.devstack.procs import PortBusyError, free_port

    for attempt in range(attempts):
        port = free_port()
        try:
            return start(port)
        except (PortBusyError, RuntimeError, TimeoutError):
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


def emulator_admin() -> dict[str, str]:
    """The header of the Toss emulator's /emulator controls (faults, stats, reset, clock, …-outside)."""
    from kiwishop.toss_emulator.settings import admin_headers

    return admin_headers()
