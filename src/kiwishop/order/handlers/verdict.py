"""Record the verdict a PSP answer allows (tx2), for the buyer's confirm and the recovery step alike.

The answer is judged first (``verdicts``; a DONE payment for another amount or paymentKey is cancelled at the
PSP before anything is recorded), then, under the order's row lock and on fresh rows, the order moves from
EXECUTING to the verdict with its history, and a SUCCESS writes the PAYMENT_CONFIRM outbox row built from the
updated rows. If someone else recorded a verdict meanwhile, theirs stands. Confirms waiting for this order's
verdict in this process are woken.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Any

from kiwishop.order.domain import (
    OrderError,
    Payment,
    PaymentStatus,
    approved_values,
    compensation_key,
    payment_confirmed,
    released_values,
)
from kiwishop.order.ports import IdSource, PaymentCounters, PaymentGateway, PaymentStore
from kiwishop.order.verdicts import Evidence, PspResult, Timing, Verdict, backoff, compensated, verdict
from kiwishop.platform.clock import utcnow
from kiwishop.platform.db import retry_on_conflict
from kiwishop.platform.errors import AppError

log = logging.getLogger("kiwishop.order.confirm")  # the logger these lines always had


async def stored(store: PaymentStore, order_id: str) -> Payment:
    """The order as last committed; PEC0004 when there is none."""
    payment = await store.find(order_id)
    if payment is None:
        raise AppError(OrderError.ORDER_NOT_FOUND)
    return payment


class RecordVerdict:
    def __init__(
        self,
        store: PaymentStore,
        gateway: PaymentGateway,
        ids: IdSource,
        timing: Timing,
        *,
        counters: PaymentCounters | None = None,
    ) -> None:
        self._store = store
        self._gateway = gateway
        self._ids = ids
        self.timing = timing
        self._counters = counters
        self._waiting: dict[str, asyncio.Event] = {}

    async def __call__(self, payment: Payment, answer: PspResult, *, changed_by: str) -> Payment:
        """``payment``: the order as its EXECUTING move left it; ``changed_by``: "api", "recovery" or "ops:<who>"."""
        return await self.record(payment, await self._judge(payment, answer), changed_by=changed_by)

    async def record(self, payment: Payment, decided: Verdict, *, changed_by: str) -> Payment:
        """Record a verdict already reached (``__call__`` judges a PSP answer first; an operator's cancel at the
        PSP has its own evidence). If someone else recorded one meanwhile, theirs stands."""
        recorded = await retry_on_conflict(lambda: self._record(payment.order_id, decided, changed_by))
        self._wake(payment.order_id)
        return recorded or await stored(self._store, payment.order_id)

    async def release(self, payment: Payment) -> None:
        """EXECUTING → NOT_STARTED: the attempt's paymentKey isn't this order's (the PSP says so), so it decided
        nothing; the key is forgotten and the order is payable again."""

        async def undo() -> None:
            async with self._store.transaction() as tx:
                current = await tx.load_for_update(payment.order_id)
                if current is None or current.status is not PaymentStatus.EXECUTING:
                    return
                if current.pending_payment_key != payment.pending_payment_key:
                    return  # another attempt took the order over meanwhile
                moved = await tx.move(current, PaymentStatus.NOT_STARTED, reason="PSP_KEY_NOT_OF_ORDER",
                                      changed_by="api", values=released_values())  # fmt: skip
                if moved:
                    await tx.commit()

        await retry_on_conflict(undo)
        log.warning("order %s: paymentKey %s is not this order's at the PSP; the order stays payable",
                    payment.order_id, payment.pending_payment_key)  # fmt: skip
        self._wake(payment.order_id)

    def recorded(self, order_id: str) -> asyncio.Event:
        """Set once a verdict of ``order_id`` is recorded in this process (a waiting confirm's alarm)."""
        return self._waiting.setdefault(order_id, asyncio.Event())

    async def _judge(self, payment: Payment, answer: PspResult) -> Verdict:
        if answer.evidence is Evidence.MISMATCH and answer.payment_key:
            log.error("order %s: %s — cancelling payment %s at the PSP", payment.order_id, answer.message,
                      answer.payment_key)  # fmt: skip
            cancel = await self._gateway.cancel(
                answer.payment_key, payment.order_id, reason=f"kiwi-shop: {answer.code}",
                idempotency_key=compensation_key(payment.order_id, answer.payment_key),
            )  # fmt: skip
            return compensated(answer, cancel)
        return verdict(
            answer, now=utcnow(), confirm_started_at=payment.confirm_started_at,
            in_doubt_since=payment.in_doubt_since, policy=self.timing.policy,
        )  # fmt: skip

    async def _record(self, order_id: str, decided: Verdict, changed_by: str) -> Payment | None:
        """tx2: EXECUTING → the verdict, under the order's row lock, on fresh rows."""
        async with self._store.transaction() as tx:
            payment = await tx.load_for_update(order_id)
            if payment is None or payment.status is not PaymentStatus.EXECUTING:
                return None
            values = self._outcome_values(payment, decided, utcnow(), counted=changed_by == "recovery")
            if not await tx.move(payment, decided.status, reason=decided.reason, changed_by=changed_by, values=values):
                return None
            if decided.status is PaymentStatus.SUCCESS:
                await tx.add_event(payment_confirmed(payment))  # the rows after the move, its confirm_event_id
            await tx.commit()
        self._observe(payment, decided)
        return payment

    def _outcome_values(self, payment: Payment, decided: Verdict, now: dt.datetime, *, counted: bool) -> dict[str, Any]:
        code, message = (decided.code or "")[:100] or None, (decided.message or "")[:500] or None
        if decided.status is PaymentStatus.SUCCESS:
            key = payment.payment_key or decided.payment_key or payment.pending_payment_key  # judged equal if bound
            return approved_values(key, decided.approved_at, self._ids.next_id(), now + self.timing.settlement_grace)
        if decided.status is PaymentStatus.FAILURE:
            return {"failure_code": code, "failure_message": message, "next_attempt_at": None}
        attempts = payment.recovery_attempts + (1 if counted else 0)
        if decided.status is PaymentStatus.QUARANTINED:
            wait = self.timing.quarantine_recheck
        else:
            wait = backoff(payment.recovery_attempts, self.timing.policy)
        return {"failure_code": code, "failure_message": message, "in_doubt_since": payment.in_doubt_since or now,
                "recovery_attempts": attempts, "next_attempt_at": now + wait}  # fmt: skip

    def _observe(self, payment: Payment, decided: Verdict) -> None:
        if decided.status is PaymentStatus.QUARANTINED:
            log.error("order %s QUARANTINED (%s): %s — a person must decide (the PSP is asked again every %s)",
                      payment.order_id, decided.code, decided.message, self.timing.quarantine_recheck)  # fmt: skip
        if self._counters is not None:
            self._counters.verdict_recorded(decided.status, decided.code)

    def _wake(self, order_id: str) -> None:
        event = self._waiting.pop(order_id, None)
        if event is not None:
            event.set()
