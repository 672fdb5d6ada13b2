"""Recovery of payments in doubt: UNKNOWN orders, and EXECUTING orders whose confirm died mid-way.

Every ``interval_s`` the worker claims due orders with a guarded transition (so several order instances
never work on the same order), asks the PSP (lookup; confirm with the same Idempotency-Key if the buyer
authorised but nobody confirmed) and records the verdict. An order still in doubt gets ``failed_count``
+ 1; at ``threshold`` (5) it becomes FAILURE (RECOVERY_EXHAUSTED), so nothing stays stuck.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

from sqlalchemy import and_, or_, select

from kiwishop.order import repository
from kiwishop.order.confirm import PaymentConfirmation
from kiwishop.order.domain import Payment, PaymentStatus, PspResult
from kiwishop.order.psp import TossClient
from kiwishop.order.tables import payment_orders
from kiwishop.platform.db import Database
from kiwishop.platform.ids import Snowflake
from kiwishop.platform.periodic import Periodic

log = logging.getLogger("kiwishop.order.recovery")
po = payment_orders


class RecoveryWorker:
    def __init__(
        self,
        db: Database,
        ids: Snowflake,
        confirmation: PaymentConfirmation,
        psp: TossClient,
        *,
        interval_s: float = 5.0,
        min_age_s: float = 2.0,
        executing_stale_s: float = 60.0,
        concurrency: int = 16,
    ) -> None:
        self._db = db
        self._ids = ids
        self._confirmation = confirmation
        self._psp = psp
        self._min_age = dt.timedelta(seconds=min_age_s)
        self._stale = dt.timedelta(seconds=executing_stale_s)
        self._limit = asyncio.Semaphore(concurrency)
        self._worker = Periodic("payment-recovery", self._step, interval_s)

    async def start(self) -> None:
        await self._worker.start()

    async def stop(self) -> None:
        await self._worker.stop()

    async def _step(self) -> bool:
        await self.recover_once()
        return False

    async def recover_once(self) -> int:
        """One pass over the due orders; returns how many were settled (SUCCESS or FAILURE)."""
        due = await self._due_orders()
        results = await asyncio.gather(*(self._recover(order_id, status) for order_id, status in due))
        return sum(1 for settled in results if settled)

    async def _due_orders(self, limit: int = 200) -> list[tuple[str, PaymentStatus]]:
        now = repository.utcnow()
        query = (
            select(po.c.order_id, po.c.payment_order_status)
            .where(
                or_(
                    and_(po.c.payment_order_status == "UNKNOWN", po.c.updated_at < now - self._min_age),
                    and_(po.c.payment_order_status == "EXECUTING", po.c.updated_at < now - self._stale),
                )
            )
            .distinct()
            .limit(limit)
        )
        async with self._db.engine.connect() as conn:
            return [(row.order_id, PaymentStatus(row.payment_order_status)) for row in await conn.execute(query)]

    async def _recover(self, order_id: str, status: PaymentStatus) -> bool:
        async with self._limit:
            payment = await self._claim(order_id, status)
            if payment is None:
                return False
            if payment.payment_key is None:  # cannot happen: the key is stored with EXECUTING
                result = PspResult.failure("NO_PAYMENT_KEY", "no payment key was ever recorded")
            else:
                result = await self._psp.recover(order_id, payment.total_amount, payment.payment_key)
            attempts = payment.failed_count + 1
            if result.status is PaymentStatus.UNKNOWN and attempts >= payment.threshold:
                result = PspResult.failure(
                    "RECOVERY_EXHAUSTED", f"still in doubt after {attempts} attempts: {result.code}"
                )
            settled = await self._confirmation.finish(payment, result, changed_by="recovery")
            log.info("recovered %s: %s", order_id, settled.status)
            return settled.status is not PaymentStatus.UNKNOWN

    async def _claim(self, order_id: str, status: PaymentStatus) -> Payment | None:
        """UNKNOWN → EXECUTING, or take over an EXECUTING order whose confirm died; None if not ours."""
        stale_before = repository.utcnow() - self._stale
        async with self._db.uow() as uow:
            payment = await repository.load_payment(uow.conn, order_id=order_id, for_update=True)
            if payment is None or payment.status is not status:
                return None
            if status is PaymentStatus.EXECUTING and (payment.updated_at or stale_before) >= stale_before:
                return None
            reason = "RECOVERY_STARTED" if status is PaymentStatus.UNKNOWN else "RECOVERY_TOOK_OVER_STALE_EXECUTION"
            if not await repository.move(
                uow, self._ids, payment, PaymentStatus.EXECUTING, reason=reason, changed_by="recovery"
            ):
                return None
            await uow.commit()
            return payment
