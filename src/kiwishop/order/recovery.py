"""Recovery of payments in doubt: UNKNOWN orders, EXECUTING orders whose lease ran out (a confirm that died
mid-way), and QUARANTINED orders (asked again rarely, in case the PSP's word has arrived).

Every ``interval_s`` the worker takes the orders whose ``next_attempt_at`` has come, claims each with a
guarded transition to EXECUTING under the order's row lock (so several order instances never work on the
same order), asks the PSP (lookup; confirm with the same Idempotency-Key if the buyer authorised but nobody
confirmed) and records the verdict the answer allows (``verdicts``): SUCCESS or FAILURE on the PSP's word,
else UNKNOWN again with a longer per-order backoff, and QUARANTINED once the horizon has passed. Attempts
never decide anything by their number.

When the PSP answers again after an outage, every UNKNOWN order still backing off is brought forward, so
they all settle within moments of its return rather than each at the end of its own backoff.
"""

from __future__ import annotations

import asyncio
import logging
import time

from sqlalchemy import text

from kiwishop.order import repository
from kiwishop.order.confirm import PaymentConfirmation
from kiwishop.order.domain import IN_DOUBT, Payment, PaymentStatus
from kiwishop.order.metrics import PaymentMetrics
from kiwishop.order.psp import TossClient
from kiwishop.order.verdicts import Evidence, PspResult
from kiwishop.platform.clock import utcnow
from kiwishop.platform.db import Database
from kiwishop.platform.ids import Snowflake
from kiwishop.platform.periodic import Periodic

log = logging.getLogger("kiwishop.order.recovery")

_DUE = text("SELECT order_id FROM payment_events WHERE next_attempt_at <= :now ORDER BY next_attempt_at LIMIT :limit")
_PULL_IN = text(
    "UPDATE payment_events e JOIN payment_orders o ON o.payment_event_no = e.payment_event_no"
    " SET e.next_attempt_at = :now WHERE o.payment_order_status = 'UNKNOWN' AND e.next_attempt_at > :now"
)
_STATES = text(
    "SELECT o.payment_order_status, COUNT(DISTINCT o.order_id) FROM payment_orders o"
    " WHERE o.payment_order_status IN ('EXECUTING', 'UNKNOWN', 'QUARANTINED') GROUP BY o.payment_order_status"
)
_REASONS = {
    PaymentStatus.UNKNOWN: "RECOVERY_STARTED",
    PaymentStatus.EXECUTING: "RECOVERY_TOOK_OVER_STALE_EXECUTION",
    PaymentStatus.QUARANTINED: "QUARANTINE_RECHECK",
}
REPORT_EVERY_S = 5.0


class RecoveryWorker:
    def __init__(
        self,
        db: Database,
        ids: Snowflake,
        confirmation: PaymentConfirmation,
        psp: TossClient,
        *,
        interval_s: float,
        batch_size: int = 200,
        concurrency: int = 16,
        metrics: PaymentMetrics | None = None,
    ) -> None:
        self._db = db
        self._ids = ids
        self._confirmation = confirmation
        self._psp = psp
        self._batch = batch_size
        self._limit = asyncio.Semaphore(concurrency)
        self._metrics = metrics
        self._psp_down_since_answers: int | None = None  # the PSP's answer count when it was last seen down
        self._reported_at = 0.0
        self._worker = Periodic("payment-recovery", self._step, interval_s)

    async def start(self) -> None:
        await self._worker.start()

    async def stop(self) -> None:
        await self._worker.stop()

    async def _step(self) -> bool:
        await self._pull_in_when_the_psp_is_back()
        due = await self._due_orders()
        await self.recover(due)
        await self._report()
        return len(due) >= self._batch

    async def recover_once(self) -> int:
        """One pass over the due orders; returns how many got a final verdict (SUCCESS or FAILURE)."""
        return await self.recover(await self._due_orders())

    async def recover(self, order_ids: list[str]) -> int:
        results = await asyncio.gather(*(self._recover(order_id) for order_id in order_ids))
        attempted = [r for r in results if r is not None]
        no_answer = attempted and all(evidence is Evidence.IN_DOUBT for _, evidence in attempted)
        if no_answer and self._psp_down_since_answers is None:  # the PSP answered none of them: it is down
            self._psp_down_since_answers = self._psp.answered
        return sum(1 for status, _ in attempted if status in (PaymentStatus.SUCCESS, PaymentStatus.FAILURE))

    async def _due_orders(self) -> list[str]:
        async with self._db.engine.connect() as conn:
            rows = await conn.execute(_DUE, {"now": utcnow(), "limit": self._batch})
            return [row.order_id for row in rows]

    async def _recover(self, order_id: str) -> tuple[PaymentStatus, Evidence] | None:
        async with self._limit:
            payment = await self._claim(order_id)
            if payment is None:
                return None
            if payment.payment_key is None:  # cannot happen (the key is stored with EXECUTING): ask by orderId
                result: PspResult = await self._psp.lookup(order_id, payment.total_amount, None, by_order=True)
            else:
                result = await self._psp.recover(order_id, payment.total_amount, payment.payment_key)
            settled = await self._confirmation.finish(payment, result, changed_by="recovery")
            log.info("recovered %s: %s (%s)", order_id, settled.status, result.code or result.evidence.value)
            return settled.status, result.evidence

    async def _claim(self, order_id: str) -> Payment | None:
        """A due order → EXECUTING with a fresh lease; None if it is not due (any more) or not in doubt."""
        async with self._db.uow() as uow:
            payment = await repository.load_payment(uow.conn, order_id=order_id, for_update=True)
            now = utcnow()
            if payment is None or payment.status not in IN_DOUBT:
                return None
            if payment.next_attempt_at is None or payment.next_attempt_at > now:
                return None
            values = {"next_attempt_at": now + self._confirmation.timing.lease}
            reason = _REASONS[payment.status]
            if not await repository.move(
                uow, self._ids, payment, PaymentStatus.EXECUTING, reason=reason, changed_by="recovery",
                event_values=values,
            ):  # fmt: skip
                return None
            await uow.commit()
            return payment

    async def _pull_in_when_the_psp_is_back(self) -> None:
        if self._psp_down_since_answers is None or self._psp.answered <= self._psp_down_since_answers:
            return
        self._psp_down_since_answers = None
        async with self._db.uow() as uow:
            moved = await uow.conn.execute(_PULL_IN, {"now": utcnow()})
            await uow.commit()
        if moved.rowcount:
            log.warning("the PSP answers again: %d order(s) in doubt are asked now", moved.rowcount)

    async def _report(self) -> None:
        if self._metrics is None or time.monotonic() - self._reported_at < REPORT_EVERY_S:
            return
        self._reported_at = time.monotonic()
        async with self._db.engine.connect() as conn:
            counts = {status: int(n) for status, n in await conn.execute(_STATES)}
        for status in ("EXECUTING", "UNKNOWN", "QUARANTINED"):
            self._metrics.orders.labels(status).set(counts.get(status, 0))
