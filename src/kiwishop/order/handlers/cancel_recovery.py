"""Recovery of cancels in doubt, one pass at a time, beside the recovery of payments (the same loop): UNKNOWN
cancels whose ``next_attempt_at`` has come, and EXECUTING ones whose lease ran out (a cancel request that died
mid-way).

Each is claimed under its order's row lock (EXECUTING with a fresh lease, so several order instances never work
on the same cancel), sent again to the PSP with the same Idempotency-Key and body — the PSP replays its first
answer if the first attempt reached it, or does it now if it never did — and the answer is recorded by the same
code as a buyer's cancel (``RecordCancel``): DONE or FAILED on the PSP's word, else UNKNOWN again with a longer
per-cancel backoff. Attempts never decide anything by their number.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

from kiwishop.order.cancellation import OPEN, Cancel, CancelStatus
from kiwishop.order.handlers.cancel_record import RecordCancel, cancel_of
from kiwishop.order.handlers.recovery import PspReturn
from kiwishop.order.ports import CancelStore, PaymentGateway
from kiwishop.platform.clock import utcnow

log = logging.getLogger("kiwishop.order.recovery")


class RecoverCancels:
    def __init__(
        self,
        store: CancelStore,
        gateway: PaymentGateway,
        record_cancel: RecordCancel,
        *,
        lease: dt.timedelta,
        batch_size: int = 200,
        concurrency: int = 16,
    ) -> None:
        self._store = store
        self._gateway = gateway
        self._record_cancel = record_cancel
        self._lease = lease
        self._batch = batch_size
        self._limit = asyncio.Semaphore(concurrency)
        self._psp = PspReturn(gateway)

    async def step(self) -> bool:
        """One pass; True when it took a full batch (more cancels are due)."""
        await self._pull_in_when_the_psp_is_back()
        due = await self._store.due_cancels(utcnow(), self._batch)
        await self.recover(due)
        return len(due) >= self._batch

    async def recover(self, due: list[tuple[str, int]]) -> int:
        """Ask about each due cancel; returns how many got a verdict (DONE or FAILED)."""
        results = await asyncio.gather(*(self._recover(order_id, cancel_no) for order_id, cancel_no in due))
        asked = [status for status in results if status is not None]
        if asked and all(s is CancelStatus.UNKNOWN for s in asked):  # the PSP answered none of them: it is down
            self._psp.answered_none()
        return sum(1 for status in results if status in (CancelStatus.DONE, CancelStatus.FAILED))

    async def _pull_in_when_the_psp_is_back(self) -> None:
        """As for payments in doubt: once the PSP answers anything again, every cancel backing off is asked now
        rather than each at the end of its own backoff."""
        if not self._psp.is_back():
            return
        moved = await self._store.bring_forward_cancels(utcnow())
        if moved:
            log.warning("the PSP answers again: %d cancel(s) in doubt are asked now", moved)

    async def _recover(self, order_id: str, cancel_no: int) -> CancelStatus | None:
        async with self._limit:
            cancel = await self._claim(order_id, cancel_no)
            if cancel is None:
                return None
            answer = await self._gateway.refund(
                cancel.payment_key, amount=cancel.amount, reason=cancel.reason, idempotency_key=cancel.idempotency_key
            )
            result = await self._record_cancel(order_id, cancel_no, answer, changed_by="recovery")
            log.info("recovered cancel %s of %s: %s (%s)", cancel_no, order_id, result.cancel.status,
                     answer.code or answer.outcome.value)  # fmt: skip
            return result.cancel.status

    async def _claim(self, order_id: str, cancel_no: int) -> Cancel | None:
        """A due cancel → EXECUTING with a fresh lease; None if it is not due (any more) or decided."""
        async with self._store.transaction() as tx:
            payment = await tx.load_for_update(order_id)  # the order's lock: one worker per cancel
            cancel = await cancel_of(tx, order_id, cancel_no) if payment is not None else None
            now = utcnow()
            if cancel is None or cancel.status not in OPEN:
                return None
            if cancel.next_attempt_at is None or cancel.next_attempt_at > now:
                return None
            await tx.update_cancel(cancel, {"status": CancelStatus.EXECUTING, "next_attempt_at": now + self._lease})
            await tx.commit()
            return cancel
