"""Settlement that heals itself: order owns ``is_wallet_done`` and keeps PAYMENT_CONFIRM moving until wallet
answers WALLET_SETTLED.

A paid order gets ``settle_check_at = approved + grace`` (``KIWI_ORDER_SETTLEMENT_GRACE_S``, 30 s). When that
time comes and the order is still not ``is_wallet_done``, its PAYMENT_CONFIRM goes out again through the
outbox — the same row made due again (same eventId, same bytes), or, when retention already removed the
row, the same event rebuilt from the order's rows with its stored ``confirm_event_id`` — and the next check
is pushed back exponentially (capped at ``KIWI_ORDER_SETTLEMENT_REPUBLISH_MAX_S``), at most
``KIWI_ORDER_SETTLEMENT_REPUBLISH_BATCH`` orders per interval, oldest first. Every consumer dedupes by
eventId, and wallet answers a repeated PAYMENT_CONFIRM with its WALLET_SETTLED again, so this heals a record
the broker lost, one parked in a DLT once its cause is gone, and a consumer that was stalled.
"""

from __future__ import annotations

import datetime as dt
import logging
import time

from sqlalchemy import text

from kiwishop.contracts.events import PAYMENT_CONFIRM
from kiwishop.order import repository
from kiwishop.order.domain import confirm_payload
from kiwishop.order.metrics import PaymentMetrics
from kiwishop.platform.clock import utcnow
from kiwishop.platform.db import Database
from kiwishop.platform.outbox import Outbox
from kiwishop.platform.periodic import Periodic

log = logging.getLogger("kiwishop.order.settlement")

_DUE = text("SELECT order_id FROM payment_events WHERE settle_check_at <= :now ORDER BY settle_check_at LIMIT :limit")
_STATE = text("SELECT settle_check_at, republish_count FROM payment_events WHERE order_id = :order_id FOR UPDATE")
_RESCHEDULE = text(
    "UPDATE payment_events SET settle_check_at = :next, republish_count = republish_count + 1 WHERE order_id = :o"
)
_DONE = text("UPDATE payment_events SET settle_check_at = NULL WHERE order_id = :o")
_WAITING = text(
    "SELECT COUNT(*), COALESCE(SUM(republish_count > 0), 0) FROM payment_events WHERE settle_check_at IS NOT NULL"
)
REPORT_EVERY_S = 5.0


class SettlementWatch:
    def __init__(
        self,
        db: Database,
        outbox: Outbox,
        *,
        grace_s: float,
        republish_max_s: float,
        interval_s: float,
        batch_size: int,
        topic: str,
        metrics: PaymentMetrics | None = None,
    ) -> None:
        self._db = db
        self._outbox = outbox
        self._grace = dt.timedelta(seconds=grace_s)
        self._max = dt.timedelta(seconds=max(republish_max_s, grace_s))
        self._batch = batch_size
        self._topic = topic
        self._metrics = metrics
        self._reported_at = 0.0
        self._worker = Periodic("settlement-watch", self._step, interval_s)

    async def start(self) -> None:
        await self._worker.start()

    async def stop(self) -> None:
        await self._worker.stop()

    async def _step(self) -> bool:
        """At most ``batch_size`` re-publishes per interval: when wallet is down for a while, thousands of
        orders come due together, and re-sending them all at once would only bury the consumer deeper."""
        await self.check_once()
        await self._report()
        return False

    async def check_once(self) -> int:
        """Re-publish PAYMENT_CONFIRM for every paid order whose settlement check is due; returns how many."""
        async with self._db.engine.connect() as conn:
            due = [row.order_id for row in await conn.execute(_DUE, {"now": utcnow(), "limit": self._batch})]
        count = 0
        for order_id in due:
            count += await self.republish(order_id)
        return count

    async def republish(self, order_id: str) -> int:
        async with self._db.uow() as uow:
            state = (await uow.conn.execute(_STATE, {"order_id": order_id})).first()
            now = utcnow()
            if state is None or state.settle_check_at is None or state.settle_check_at > now:
                return 0  # settled, or another instance just did it
            payment = await repository.load_payment(uow.conn, order_id=order_id)
            if payment is None or payment.is_wallet_done or not payment.is_payment_done:
                await uow.conn.execute(_DONE, {"o": order_id})
                await uow.commit()
                return 0
            wait = min(self._max, self._grace * (2 ** min(int(state.republish_count) + 1, 20)))
            await uow.conn.execute(_RESCHEDULE, {"next": now + wait, "o": order_id})
            key = f"{PAYMENT_CONFIRM.name}:{order_id}"
            if not await self._outbox.requeue(uow, key):  # retention removed the row: rebuild the same event
                await self._outbox.add(
                    uow, topic=self._topic, key=order_id, event_type=PAYMENT_CONFIRM.name,
                    payload=dict(confirm_payload(payment)),
                    idempotency_key=key, event_id=payment.confirm_event_id,
                )  # fmt: skip
            await uow.commit()
        log.warning(
            "order %s paid at %s is not settled by wallet yet: PAYMENT_CONFIRM published again (#%d, next check in %s)",
            order_id, payment.approved_at, int(state.republish_count) + 1, wait,
        )  # fmt: skip
        if self._metrics is not None:
            self._metrics.republished.inc()
        return 1

    async def _report(self) -> None:
        if self._metrics is None or time.monotonic() - self._reported_at < REPORT_EVERY_S:
            return
        self._reported_at = time.monotonic()
        async with self._db.engine.connect() as conn:
            waiting, overdue = (await conn.execute(_WAITING)).one()
        self._metrics.orders.labels("AWAITING_SETTLEMENT").set(int(waiting))
        self._metrics.orders.labels("OVERDUE_SETTLEMENT").set(int(overdue))
