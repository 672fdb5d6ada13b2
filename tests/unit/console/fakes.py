"""Fakes shaped like the console's ports (``kiwishop.console.ports``): services that answer what a test gives
them (or fail as told), a broker, an in-memory audit table and reconcile reports."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
from dataclasses import dataclass, field

from kiwishop.console.domain import AuditEntry, ConsoleError
from kiwishop.console.ports import Json, PeerError
from kiwishop.platform.errors import AppError

PAYMENTS = {
    "counts": {"UNKNOWN": 2, "EXECUTING": 1, "QUARANTINED": 1, "UNSETTLED": 0},
    "inDoubt": [{"orderId": "order-000001", "status": "UNKNOWN", "totalAmount": 1000, "buyerId": 1,
                 "paymentKey": None, "createdAt": "2026-01-01T00:00:00.000Z",
                 "updatedAt": "2026-01-01T00:00:00.000Z", "nextAttemptAt": None}],
    "quarantined": [],
    "unsettled": [],
}  # fmt: skip
REGISTRATIONS = {
    "counts": {"WALLET_REQUESTED": 1, "COMPENSATED": 0},
    "registrations": [{"registrationId": 7, "sellerNo": 9, "sellerId": "s-9", "status": "WALLET_REQUESTED",
                       "step": "WALLET_CREATION", "createdAt": "x", "updatedAt": "y"}],
}  # fmt: skip


@dataclass
class FakePeers:
    """Every service answers; ``down`` names those that do not, ``refusals`` order's refusal of an action."""

    down: set[str] = field(default_factory=set)
    refusal: PeerError | None = None
    tokens: list[str] = field(default_factory=list)
    actions: list[tuple[str, str, str]] = field(default_factory=list)
    slow: set[str] = field(default_factory=set)

    async def _answer(self, service: str, token: str, answer: Json) -> Json:
        self.tokens.append(token)
        if service in self.slow:
            await asyncio.sleep(60)
        if service in self.down:
            raise PeerError(service, None, "connection refused")
        return answer

    async def outbox(self, service: str, token: str) -> Json:
        return await self._answer(service, token, {"service": service, "pending": 3, "failed": 1,
                                                   "oldestAgeSeconds": 12.5})  # fmt: skip

    async def payments(self, token: str, limit: int) -> Json:
        return await self._answer("order", token, PAYMENTS)

    async def registrations(self, token: str, limit: int) -> Json:
        return await self._answer("seller", token, REGISTRATIONS)

    async def ready(self, service: str) -> bool:
        if service in self.down:
            raise PeerError(service, None, "connection refused")
        return True

    async def recheck(self, order_id: str, token: str) -> Json:
        return await self._act("recheck", order_id, token, {"orderId": order_id, "before": "UNKNOWN",
                                                             "status": "SUCCESS"})  # fmt: skip

    async def cancel_at_psp(self, order_id: str, reason: str, token: str) -> Json:
        return await self._act("cancel", order_id, token, {"orderId": order_id, "before": "QUARANTINED",
                                                            "status": "FAILURE", "pspStatus": "CANCELED"})  # fmt: skip

    async def _act(self, action: str, order_id: str, token: str, answer: Json) -> Json:
        if self.refusal is not None:
            raise self.refusal
        self.actions.append((action, order_id, token))
        return await self._answer("order", token, answer)


@dataclass
class FakeBroker:
    down: bool = False
    topics: set[str] = field(default_factory=lambda: {"kiwi-shop-product-like.DLT"})
    redriven: list[tuple[str, tuple[int, int] | None]] = field(default_factory=list)
    gate: asyncio.Event | None = None  # set: a redrive waits for it after it has started (``started``)
    started: asyncio.Event = field(default_factory=asyncio.Event)

    async def _pass_gate(self) -> None:
        self.started.set()
        if self.gate is not None:
            await self.gate.wait()

    def _check(self, topic: str | None = None) -> None:
        if self.down:
            raise AppError(ConsoleError.BROKER_UNAVAILABLE, reason="no brokers")
        if topic is not None and f"{topic.removesuffix('.DLT')}.DLT" not in self.topics:
            raise AppError(ConsoleError.UNKNOWN_TOPIC, topic=topic)

    async def consumer_lag(self) -> list[Json]:
        self._check()
        return [
            {
                "group": "hot-catalog-service",
                "topic": "kiwi-shop-product-like",
                "lag": 4,
                "joined": True,
                "partitions": 3,
            }
        ]

    async def dead_letter_counts(self) -> list[Json]:
        self._check()
        return [{"topic": t, "pending": 1, "total": 2} for t in sorted(self.topics)]

    async def dead_letters(self, topic: str, limit: int) -> Json:
        self._check(topic)
        return {"topic": topic, "total": 0, "pending": 0, "records": []}

    async def redrive_all(self, topic: str) -> Json:
        self._check(topic)
        await self._pass_gate()
        self.redriven.append((topic, None))
        return {"topic": topic, "redriven": 1, "toTopics": {topic.removesuffix(".DLT"): 1}}

    async def redrive_one(self, topic: str, partition: int, offset: int) -> Json:
        self._check(topic)
        await self._pass_gate()
        self.redriven.append((topic, (partition, offset)))
        return {"topic": topic, "redriven": 1, "toTopics": {topic.removesuffix(".DLT"): 1}}


@dataclass
class MemoryClaims:
    """``ports.Claims`` in memory: a claim is held until released (the lease is the SQL store's concern)."""

    held: set[str] = field(default_factory=set)
    released: list[str] = field(default_factory=list)

    async def claim(self, target: str, lease_s: float) -> bool:
        if target in self.held:
            return False
        self.held.add(target)
        return True

    async def release(self, target: str) -> None:
        self.held.discard(target)
        self.released.append(target)


@dataclass
class MemoryAudit:
    rows: dict[int, AuditEntry] = field(default_factory=dict)
    down: bool = False
    _numbers: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    async def start(self, actor: str, action: str, target: str, detail: Json) -> int:
        if self.down:
            raise ConnectionRefusedError("the database is down")
        audit_no = next(self._numbers)
        self.rows[audit_no] = AuditEntry(audit_no, actor, action, target, "started", dt.datetime(2026, 1, 1), detail)
        return audit_no

    async def finish(self, audit_no: int, outcome: str, detail: Json) -> None:
        row = self.rows[audit_no]
        self.rows[audit_no] = AuditEntry(
            row.audit_no, row.actor, row.action, row.target, outcome, row.created_at, detail, dt.datetime(2026, 1, 1)
        )

    async def recent(self, limit: int) -> list[AuditEntry]:
        return sorted(self.rows.values(), key=lambda e: -e.audit_no)[:limit]

    async def get(self, audit_no: int) -> AuditEntry | None:
        return self.rows.get(audit_no)


@dataclass
class FakeReconciles:
    report: Json | None = None
    failure: AppError | None = None
    runs: list[str] = field(default_factory=list)

    async def run(self, triggered_by: str) -> Json:
        if self.failure is not None:
            raise self.failure
        self.runs.append(triggered_by)
        self.report = {"runNo": len(self.runs), "triggeredBy": triggered_by, "clean": False, "discrepancies": 2,
                       "finishedAt": "2026-01-01T00:00:00.000Z", "problems": ["a", "b"], "text": "t"}  # fmt: skip
        return self.report

    async def last(self) -> Json | None:
        return self.report
