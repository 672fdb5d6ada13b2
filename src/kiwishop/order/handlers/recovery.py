"""Recovery of payments in doubt, one pass at a time: UNKNOWN orders, EXECUTING orders whose lease ran out (a
confirm that died mid-way), and QUARANTINED orders (asked again rarely, in case the PSP's word has arrived).

A pass takes the orders whose ``next_attempt_at`` has come, claims each with a guarded transition to EXECUTING
under the order's row lock (so several order instances never work on the same order), asks the PSP to
resolve it (a lookup; an approval with the same Idempotency-Key if the buyer authorised but nobody confirmed)
and records the verdict the answer allows (``RecordVerdict``): SUCCESS or FAILURE on the PSP's word, else
UNKNOWN again with a longer per-order backoff, and QUARANTINED once the horizon has passed. Attempts never
decide anything by their number.

When the PSP answers again after an outage, every UNKNOWN order still backing off is brought forward, so
they all settle within moments of its return rather than each at the end of its own backoff.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

from kiwishop.order.domain import IN_DOUBT, Payment, PaymentStatus
from kiwishop.order.handlers.verdict import RecordVerdict
from kiwishop.order.ports import PaymentGateway, PaymentStore
from kiwishop.order.verdicts import Evidence, PspResult
from kiwishop.platform.clock import utcnow

log = logging.getLogger("kiwishop.order.recovery")

_REASONS = {
    PaymentStatus.UNKNOWN: "RECOVERY_STARTED",
    PaymentStatus.EXECUTING: "RECOVERY_TOOK_OVER_STALE_EXECUTION",
    PaymentStatus.QUARANTINED: "QUARANTINE_RECHECK",
}


class PspReturn:
    """Notices the PSP answering again after a recovery pass it answered none of (payments' and cancels' alike):
    then everything in doubt that is backing off is asked at once."""

    def __init__(self, gateway: PaymentGateway) -> None:
        self._gateway = gateway
        self._down_since_answers: int | None = None  # the PSP's answer count when it was last seen down

    def answered_none(self) -> None:
        if self._down_since_answers is None:
            self._down_since_answers = self._gateway.answered

    def is_back(self) -> bool:
        """True once per outage: the first time the PSP has answered anything since it was seen down."""
        if self._down_since_answers is None or self._gateway.answered <= self._down_since_answers:
            return False
        self._down_since_answers = None
        return True


class RecoverPayments:
    def __init__(
        self,
        store: PaymentStore,
        gateway: PaymentGateway,
        record_verdict: RecordVerdict,
        *,
        lease: dt.timedelta,
        batch_size: int = 200,
        concurrency: int = 16,
    ) -> None:
        self._store = store
        self._gateway = gateway
        self._record_verdict = record_verdict
        self._lease = lease
        self._batch = batch_size
        self._limit = asyncio.Semaphore(concurrency)
        self._psp = PspReturn(gateway)

    async def step(self) -> bool:
        """One pass; True when it took a full batch (more orders are due)."""
        await self._pull_in_when_the_psp_is_back()
        due = await self._store.due_for_recovery(utcnow(), self._batch)
        await self.recover(due)
        return len(due) >= self._batch

    async def recover_due(self) -> int:
        """One pass over the due orders; returns how many got a final verdict (SUCCESS or FAILURE)."""
        return await self.recover(await self._store.due_for_recovery(utcnow(), self._batch))

    async def recover(self, order_ids: list[str]) -> int:
        results = await asyncio.gather(*(self._recover(order_id) for order_id in order_ids))
        attempted = [r for r in results if r is not None]
        no_answer = attempted and all(evidence is Evidence.IN_DOUBT for _, evidence in attempted)
        if no_answer:  # the PSP answered none of them: it is down
            self._psp.answered_none()
        return sum(1 for status, _ in attempted if status in (PaymentStatus.SUCCESS, PaymentStatus.FAILURE))

    async def recheck(self, order_id: str, *, changed_by: str) -> Payment | None:
        """Ask the PSP about one order in doubt now, whatever its backoff (an operator's "re-check now"); None when
        it is not in doubt, or is EXECUTING under a live lease (a confirm or recovery is working on it)."""
        payment = await self.claim_now(order_id, changed_by=changed_by, reason="OPS_RECHECK")
        if payment is None:
            return None
        settled, _ = await self._ask(payment, changed_by)
        return settled

    async def claim_now(self, order_id: str, *, changed_by: str, reason: str) -> Payment | None:
        """An order in doubt → EXECUTING with a fresh lease whatever its backoff (UNKNOWN, QUARANTINED, or EXECUTING
        whose lease ran out: until then someone is working on it); None when there is nothing to claim."""
        return await self._claim(order_id, now_due=True, changed_by=changed_by, reason=reason)

    async def _recover(self, order_id: str) -> tuple[PaymentStatus, Evidence] | None:
        async with self._limit:
            payment = await self._claim(order_id)
            if payment is None:
                return None
            settled, evidence = await self._ask(payment, "recovery")
            return settled.status, evidence

    async def _ask(self, payment: Payment, changed_by: str) -> tuple[Payment, Evidence]:
        """Resolve a claimed order at the PSP and record the verdict the answer allows."""
        order_id = payment.order_id
        key = payment.payment_key or payment.pending_payment_key  # vouched, else the one a confirm tried
        if key is None:  # cannot happen (a confirm stores its key with EXECUTING): ask by orderId
            answer: PspResult = await self._gateway.lookup(order_id, payment.total_amount, None, by_order=True)
        else:
            answer = await self._gateway.resolve(order_id, payment.total_amount, key)
        settled = await self._record_verdict(payment, answer, changed_by=changed_by)
        log.info("recovered %s: %s (%s)", order_id, settled.status, answer.code or answer.evidence.value)
        return settled, answer.evidence

    async def _claim(
        self, order_id: str, *, now_due: bool = False, changed_by: str = "recovery", reason: str | None = None
    ) -> Payment | None:
        """A due order → EXECUTING with a fresh lease; None if it is not due (any more) or not in doubt
        (``now_due``: see ``claim_now``)."""
        async with self._store.transaction() as tx:
            payment = await tx.load_for_update(order_id)
            now = utcnow()
            if payment is None or payment.status not in IN_DOUBT:
                return None
            waits = payment.next_attempt_at is None or payment.next_attempt_at > now
            if waits and not (now_due and payment.status is not PaymentStatus.EXECUTING):
                return None
            values = {"next_attempt_at": now + self._lease}
            why = reason or _REASONS[payment.status]
            if not await tx.move(payment, PaymentStatus.EXECUTING, reason=why, changed_by=changed_by, values=values):
                return None
            await tx.commit()
            return payment

    async def _pull_in_when_the_psp_is_back(self) -> None:
        if not self._psp.is_back():
            return
        moved = await self._store.bring_forward_unknown(utcnow())
        if moved:
            log.warning("the PSP answers again: %d order(s) in doubt are asked now", moved)
