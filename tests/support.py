"""Helpers shared by the test tiers: polling with a deadline, reading topics, building apps."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import httpx
from aiokafka import AIOKafkaConsumer, ConsumerRecord
from fastapi import FastAPI

from kiwishop.platform.settings import InfraSettings

T = TypeVar("T")


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
