"""Webhooks (toss.md A6): each payment status change — and each cancel, partial ones included — becomes one
delivery of ``{"eventType": "PAYMENT_STATUS_CHANGED", "createdAt": <+09:00>, "data": <the Payment object>}``,
kept until the receiver answers 200 or Toss's retry ladder is spent: after the first attempt, 7 more at 1, 4,
16, 64, 256, 1024 and 4096 minutes (each after the one before), times ``webhook_time_scale``.

A delivery is added in the synchronous step that makes the change, so with a state file it is written in the
same transaction as the payment: kept exactly when the change is. ``sender`` makes the attempts in the
background, never inside the request. Due times are real wall-clock microseconds since the epoch (the ladder
runs on real time; ``/emulator/clock`` does not move it), so that a restarted emulator resumes the ladder.
Deliveries are independent: a retried one may arrive after a later change's (receivers re-read the payment).
At most ``max_pending_webhooks`` are kept: past that, the oldest are dropped (a receiver down for long enough
loses its oldest events, as with a spent ladder), counted in ``webhooksDropped`` and logged.
"""

from __future__ import annotations

import datetime as dt
import heapq
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from kiwishop.platform import jsonutil
from kiwishop.toss_emulator.domain import Payment
from kiwishop.toss_emulator.store import Stats, trimmed
from kiwishop.toss_emulator.wire import kst_iso, payment_json

EVENT_TYPE = "PAYMENT_STATUS_CHANGED"
LADDER_MINUTES = (1, 4, 16, 64, 256, 1024, 4096)
MINUTE_US = 60_000_000

log = logging.getLogger("kiwishop.toss_emulator.webhooks")

WallClock = Callable[[], int]


def wall_us() -> int:
    """Now on the real wall clock, in microseconds since the epoch."""
    return time.time_ns() // 1000


@dataclass(frozen=True)
class Delivery:
    id: int
    payment_key: str
    body: bytes
    attempts: int  # attempts made so far (all failed: a delivered one is gone)
    due_us: int


class Deliveries(Protocol):
    """The deliveries still to make (in memory, or in the state file). Ids are never reused, not even after
    a reset, so an attempt that ends after a reset finds its delivery gone."""

    def add(self, payment_key: str, body: bytes, due_us: int) -> int: ...

    def due(self, now_us: int, limit: int) -> list[Delivery]:
        """Up to ``limit`` deliveries due at ``now_us``, the longest due first."""

    def next_due_us(self) -> int | None: ...

    def reschedule(self, delivery_id: int, attempts: int, due_us: int) -> bool:
        """Record a failed attempt; False when the delivery is gone."""

    def remove(self, delivery_id: int) -> bool:
        """Forget a delivery (delivered, or given up); False when it was gone already."""

    def trim(self, cap: int) -> int:
        """Over ``cap`` deliveries: forget the oldest (by id), down to ``trimmed(cap)``; how many went."""

    def clear(self) -> None: ...

    def __len__(self) -> int: ...


class MemoryDeliveries:
    """The rows by id, and a heap of (due_us, id) to find the due ones without scanning them all (an entry
    whose row is gone or due at another time is stale, and dropped when it comes up)."""

    def __init__(self) -> None:
        self._rows: dict[int, Delivery] = {}
        self._heap: list[tuple[int, int]] = []
        self._last_id = 0

    def add(self, payment_key: str, body: bytes, due_us: int) -> int:
        self._last_id += 1
        self._rows[self._last_id] = Delivery(self._last_id, payment_key, body, 0, due_us)
        heapq.heappush(self._heap, (due_us, self._last_id))
        if len(self._heap) > 2 * len(self._rows) + 64:  # stale entries of removed rows wait for their due time
            self._heap = [(row.due_us, row.id) for row in self._rows.values()]
            heapq.heapify(self._heap)
        return self._last_id

    def due(self, now_us: int, limit: int) -> list[Delivery]:
        found: dict[int, Delivery] = {}
        while self._heap and self._heap[0][0] <= now_us and len(found) < limit:
            due_us, delivery_id = heapq.heappop(self._heap)
            row = self._rows.get(delivery_id)
            if row is not None and row.due_us == due_us:
                found[delivery_id] = row
        for row in found.values():  # still pending until an attempt's outcome is recorded
            heapq.heappush(self._heap, (row.due_us, row.id))
        return list(found.values())

    def next_due_us(self) -> int | None:
        while self._heap:
            due_us, delivery_id = self._heap[0]
            row = self._rows.get(delivery_id)
            if row is not None and row.due_us == due_us:
                return due_us
            heapq.heappop(self._heap)
        return None

    def reschedule(self, delivery_id: int, attempts: int, due_us: int) -> bool:
        row = self._rows.get(delivery_id)
        if row is None:
            return False
        self._rows[delivery_id] = Delivery(row.id, row.payment_key, row.body, attempts, due_us)
        heapq.heappush(self._heap, (due_us, delivery_id))
        return True

    def remove(self, delivery_id: int) -> bool:
        return self._rows.pop(delivery_id, None) is not None

    def trim(self, cap: int) -> int:
        if len(self._rows) <= cap:
            return 0
        oldest = list(self._rows)[: len(self._rows) - trimmed(cap)]  # ids in the order they were added
        for delivery_id in oldest:
            del self._rows[delivery_id]
        return len(oldest)

    def clear(self) -> None:
        self._rows.clear()
        self._heap.clear()

    def __len__(self) -> int:
        return len(self._rows)


def retry_delay_us(failed_attempts: int, scale: float) -> int | None:
    """The wait after the ``failed_attempts``-th failed attempt before the next one; None: the ladder is spent."""
    if not 1 <= failed_attempts <= len(LADDER_MINUTES):
        return None
    return round(LADDER_MINUTES[failed_attempts - 1] * MINUTE_US * scale)


def event_body(payment: Payment, now: dt.datetime) -> bytes:
    return jsonutil.dumps({"eventType": EVENT_TYPE, "createdAt": kst_iso(now), "data": payment_json(payment)})


class Webhooks:
    """Adds a delivery per change (``notify``) and records each attempt's outcome (``record``), with the counters.

    ``wake`` is called after each added delivery: the sender sets it to start at once. Past ``cap`` pending
    deliveries the oldest are dropped."""

    def __init__(
        self,
        deliveries: Deliveries,
        *,
        enabled: bool,
        scale: float,
        wall: WallClock = wall_us,
        cap: int | None = None,
    ) -> None:
        self.deliveries = deliveries
        self.enabled = enabled
        self.scale = scale
        self.wall = wall
        self.cap = cap
        self.wake: Callable[[], None] = lambda: None

    def notify(self, payment: Payment, now: dt.datetime, stats: Stats) -> None:
        if not self.enabled:
            return
        self.deliveries.add(payment.payment_key, event_body(payment, now), self.wall())
        stats.webhook_events += 1
        dropped = 0 if self.cap is None else self.deliveries.trim(self.cap)
        if dropped:
            stats.webhooks_dropped += dropped
            log.warning("%d oldest webhook deliveries dropped: over the cap of %d pending", dropped, self.cap)
        self.wake()

    def record(self, delivery: Delivery, delivered: bool, stats: Stats) -> None:
        """The outcome of one attempt: delivered (gone), due again on the ladder, or given up (gone). Nothing
        is counted for a delivery that is gone already (a reset while the attempt ran)."""
        if delivered:
            if self.deliveries.remove(delivery.id):
                stats.webhooks_sent += 1
                stats.webhooks_delivered += 1
            return
        attempts = delivery.attempts + 1
        delay = retry_delay_us(attempts, self.scale)
        if delay is None:
            known = self.deliveries.remove(delivery.id)
            stats.webhooks_given_up += known
        else:
            known = self.deliveries.reschedule(delivery.id, attempts, self.wall() + delay)
        if known:
            stats.webhooks_sent += 1
            stats.webhook_failed_attempts += 1
