"""Order history reads: ``GET /api/orders/members/{m}?limit=10`` against order-query (8087) served by
uvicorn in its own process (``kiwishop serve order-query``), over real HTTP, with the read model warm.

Two measurements with a small keep-alive HTTP/1.1 client (cheap enough that the client is not what is
measured): the most requests per second that ``connections`` closed-loop clients get, and the latency
at a fixed offered rate (open loop: each request is timed from when it was due, so queueing counts).
order is not running: a read that needed it would fail and be counted as an error. Each read is the member's
own, with their bearer token (minted from the fleet's key before the clock starts; verifying it is part of
what a read costs).
"""

from __future__ import annotations

import asyncio
import gc
import json
import random
import time
from pathlib import Path
from typing import Any

from kiwishop.contracts.topics import PAYMENT
from kiwishop.order_query.domain import paid_read_model
from kiwishop.order_query.store import ReadModelStore, model_json
from kiwishop.platform.envelope import Envelope
from kiwishop.platform.ids import Snowflake
from kiwishop.platform.kafka import KafkaPublisher, OutgoingRecord
from kiwishop.platform.redisclient import create_redis
from kiwishop.platform.settings import InfraSettings
from kiwishop_dev.bench.report import Report, percentile
from kiwishop_dev.devstack.fleet import Fleet
from kiwishop_dev.tokens import TokenMint

SCENARIO = "history"
PREFIX = "bench-order-query"
TARGET_RATE = 3000


def _payload(ids: Snowflake, member: int) -> dict[str, Any]:
    number = ids.next_id()
    lines = [
        {"paymentOrderNo": ids.next_id(), "productNo": p, "sellerNo": 1, "productName": f"상품{'ABC'[p - 1]}",
         "amount": f"{p * 1000}.00", "status": "SUCCESS"}
        for p in (1, 2, 3)
    ]  # fmt: skip
    return {
        "paymentEventNo": number, "memberNo": member, "orderId": f"bench-{number}", "paymentKey": f"tgen_{number}",
        "orderName": "상품A 그외", "method": "CARD", "type": "NORMAL",
        "approvedDateTime": "2026-11-25T11:40:58+09:00", "totalAmount": "6000.00", "paymentOrderList": lines,
        "paymentDone": True,
    }  # fmt: skip


async def warm(infra: InfraSettings, members: int, orders: int) -> None:
    """Every member's history in Redis, proven complete, as a first read through order would leave it."""
    redis = create_redis(infra.redis_url)
    try:
        store = ReadModelStore(redis, PREFIX, index_size=1000, model_ttl_s=86_400, applied_ttl_s=86_400)
        ids = Snowflake(950)
        epoch = await store.epoch()
        for member in range(1, members + 1):
            models = [paid_read_model(_payload(ids, member)) for _ in range(orders)]
            bodies = [(m["paymentEventNo"], model_json(m)) for m in reversed(models)]
            await store.fill(member, bodies, epoch=epoch, cursor=None, floor=0)
    finally:
        await redis.aclose()


class Connection:
    """One keep-alive HTTP/1.1 connection; GET only."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> Connection:
        return cls(*await asyncio.open_connection("127.0.0.1", port))

    async def get(self, path: bytes, token: bytes) -> tuple[int, bytes]:
        self.writer.write(b"GET " + path + b" HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer " + token + b"\r\n\r\n")
        head = await self.reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        return int(head[9:12]), await self.reader.readexactly(length)

    def close(self) -> None:
        self.writer.close()


class Load:
    def __init__(self, port: int, members: int, tokens: TokenMint) -> None:
        self.port = port
        self.reads = [
            (b"/api/orders/members/%d?limit=10" % m, tokens.member(m).encode()) for m in range(1, members + 1)
        ]
        self.latencies_ms: list[float] = []
        self.errors = 0

    async def _one(self, conn: Connection, due: float) -> None:
        status, body = await conn.get(*random.choice(self.reads))
        if status != 200 or not body.startswith(b'{"paymentEventList":[{'):
            self.errors += 1
        self.latencies_ms.append((time.perf_counter() - due) * 1000)

    async def closed(self, connections: int, duration_s: float) -> float:
        """Requests per second with ``connections`` clients sending back to back."""
        conns = [await Connection.open(self.port) for _ in range(connections)]
        until = time.perf_counter() + duration_s

        async def client(conn: Connection) -> None:
            while time.perf_counter() < until:
                await self._one(conn, time.perf_counter())

        started = time.perf_counter()
        await asyncio.gather(*(client(c) for c in conns))
        elapsed = time.perf_counter() - started
        for conn in conns:
            conn.close()
        return len(self.latencies_ms) / elapsed

    async def open_loop(self, rate: float, duration_s: float, connections: int) -> None:
        """``rate`` requests per second on schedule, over a pool of connections."""
        due: asyncio.Queue[float | None] = asyncio.Queue()
        conns = [await Connection.open(self.port) for _ in range(connections)]

        async def worker(conn: Connection) -> None:
            while (moment := await due.get()) is not None:
                await self._one(conn, moment)

        workers = [asyncio.create_task(worker(c)) for c in conns]
        start = time.perf_counter()
        sent = 0
        while (now := time.perf_counter()) < start + duration_s:
            while start + sent / rate <= now:
                due.put_nowait(start + sent / rate)
                sent += 1
            await asyncio.sleep(0.0005)
        for _ in workers:
            due.put_nowait(None)
        await asyncio.gather(*workers)
        for conn in conns:
            conn.close()


async def _newest(conn: Connection, member: int, token: bytes) -> int | None:
    status, body = await conn.get(b"/api/orders/members/%d?limit=1" % member, token)
    events = json.loads(body)["paymentEventList"] if status == 200 else []
    return int(events[0]["paymentEventNo"]) if events else None


async def publish_to_readable(infra: InfraSettings, port: int, events: int, tokens: TokenMint) -> list[float]:
    """PAYMENT_CONFIRM published → the order on the member's first page, as a client polling sees it."""
    member = 10**9 + random.randint(1, 10**6)
    token = tokens.member(member).encode()
    await warm_member(infra, member)
    publisher = KafkaPublisher(infra)
    conn = await Connection.open(port)
    ids = Snowflake(951)
    latencies: list[float] = []
    try:
        for i in range(events + 1):  # the first one waits for the consumer group to be joined
            body = _payload(ids, member)
            envelope = Envelope(event_id=ids.next_id(), type="PAYMENT_CONFIRM", payload=body, key=body["orderId"])
            started = time.perf_counter()
            await publisher.send(OutgoingRecord(PAYMENT, body["orderId"], envelope.to_json()))
            deadline = started + 30
            while await _newest(conn, member, token) != body["paymentEventNo"] and time.perf_counter() < deadline:
                await asyncio.sleep(0.002)
            if i:
                latencies.append((time.perf_counter() - started) * 1000)
            await asyncio.sleep(0.02)
    finally:
        conn.close()
        await publisher.close()
    return latencies


async def warm_member(infra: InfraSettings, member: int) -> None:
    """A member whose (empty so far) history is proven complete, as after a first read through order."""
    redis = create_redis(infra.redis_url)
    try:
        store = ReadModelStore(redis, PREFIX, index_size=1000, model_ttl_s=86_400, applied_ttl_s=86_400)
        first = paid_read_model(_payload(Snowflake(952), member))
        await store.fill(member, [(first["paymentEventNo"], model_json(first))], epoch=await store.epoch(), floor=0)
    finally:
        await redis.aclose()


async def run(infra: InfraSettings, report: Report, quick: bool, log_dir: Path | None = None) -> None:
    members, orders = (200, 30) if quick else (2000, 30)
    duration = 4.0 if quick else 15.0
    await warm(infra, members, orders)
    fleet = Fleet(infra, log_dir or Path("results") / "logs", {"KIWI_ORDER_QUERY_KEY_PREFIX": PREFIX})
    try:
        fleet.start("order-query")
        port = fleet.ports["order-query"]
        tokens = fleet.tokens
        await Load(port, members, tokens).closed(16, 1.0)  # warm-up: connections, scripts, code paths
        gc.collect()
        gc.freeze()  # the client's own full collections must not show up as server latency
        closed = Load(port, members, tokens)
        rate = await closed.closed(32, duration)
        fixed = Load(port, members, tokens)
        await fixed.open_loop(TARGET_RATE, duration, connections=64)
        visible = await publish_to_readable(infra, port, 50 if quick else 200, tokens)
    finally:
        gc.unfreeze()
        fleet.stop()
    p99 = percentile(fixed.latencies_ms, 99)
    report.add(SCENARIO, "history reads/s (limit=10, warm, 32 connections)", rate, "1/s", ">= 3,000", rate >= 3000)
    report.add(SCENARIO, "history p99 at 3,000 reads/s offered", p99, "ms", "< 10", p99 < 10)
    report.add(SCENARIO, "history p50 at 3,000 reads/s offered", percentile(fixed.latencies_ms, 50), "ms")
    report.add(SCENARIO, "history p99 at full load (32 connections)", percentile(closed.latencies_ms, 99), "ms")
    visible_p99 = percentile(visible, 99)
    report.add(SCENARIO, "PAYMENT_CONFIRM published → on page 1, p50", percentile(visible, 50), "ms")
    report.add(SCENARIO, "PAYMENT_CONFIRM published → on page 1, p99", visible_p99, "ms", "< 1,000", visible_p99 < 1000)
    if closed.errors or fixed.errors:
        report.notes.append(f"history: {closed.errors + fixed.errors} reads failed or were not served from Redis")
