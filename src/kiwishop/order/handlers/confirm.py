"""Confirm a payment (the buyer's confirm): tx1 (load the order under its row lock, validate, guarded move to
EXECUTING) → ask the PSP to approve, outside any transaction → record the verdict its answer allows
(``RecordVerdict``, tx2). SUCCESS and FAILURE are terminal; confirming a finished order returns what is stored.

An order in doubt (UNKNOWN) is asked about again by the recovery step with per-order backoff
(``next_attempt_at``); a buyer's confirm meanwhile counts toward nothing: while the order is backing off it
gets the stored state (202), once it is due it asks the PSP like the recovery step would. EXECUTING carries a
lease in ``next_attempt_at``: past it, the recovery step takes the order over (the confirm died mid-way).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
from decimal import Decimal

from kiwishop.order.domain import (
    CONFIRMABLE,
    OrderError,
    Payment,
    PaymentKeyTaken,
    PaymentStatus,
    started_values,
)
from kiwishop.order.handlers.verdict import RecordVerdict, stored
from kiwishop.order.ports import PaymentGateway, PaymentStore
from kiwishop.order.verdicts import Evidence, PspResult
from kiwishop.platform.clock import utcnow
from kiwishop.platform.db import retry_on_conflict
from kiwishop.platform.errors import AppError
from kiwishop.platform.identity import AuthError

ROUNDS = 3  # a confirm that waited for another attempt of the order tries again if that one was released
# Answers to an approval that don't show the PSP's payment of this order: whose key is it? (``_vouched``)
UNVOUCHED = (Evidence.DECLINED, Evidence.NOT_FOUND, Evidence.FOREIGN, Evidence.IN_DOUBT)
DECISIVE = (Evidence.APPROVED, Evidence.DECLINED, Evidence.MISMATCH, Evidence.ODD)  # a lookup that beats the answer


class ConfirmPayment:
    def __init__(
        self,
        store: PaymentStore,
        gateway: PaymentGateway,
        record_verdict: RecordVerdict,
        *,
        lease: dt.timedelta,
        wait_s: float,
    ) -> None:
        self._store = store
        self._gateway = gateway
        self._record_verdict = record_verdict
        self._lease = lease
        self._wait_s = wait_s

    async def __call__(self, payment_key: str, order_id: str, amount: Decimal, *, buyer: int | None = None) -> Payment:
        """``buyer``: the caller's member number, checked against the order's under its lock (403 for anyone else's
        order, before anything is written or the PSP asked); None when the caller checked it already."""
        for _ in range(ROUNDS):
            payment, started = await retry_on_conflict(lambda: self._start(payment_key, order_id, amount, buyer))
            if started:
                return await self._attempt(payment, payment_key, amount)
            if payment.status is not PaymentStatus.EXECUTING:
                return payment
            payment = await self._wait_for_verdict(order_id)
            if payment.status is not PaymentStatus.NOT_STARTED:  # else: that attempt's key wasn't the order's
                return payment
        raise AppError(OrderError.PAYMENT_IN_PROGRESS)

    async def _attempt(self, payment: Payment, payment_key: str, amount: Decimal) -> Payment:
        """Ask the PSP to approve; a key the PSP doesn't vouch for is released (``_vouched``)."""
        fresh = payment.in_doubt_since is None  # nothing was asked about this order before: NOT_STARTED
        answer = await self._gateway.approve(payment_key, payment.order_id, amount)
        if fresh and answer.evidence in UNVOUCHED:
            answer = await self._vouched(payment, payment_key, amount, answer)
        return await self._record_verdict(payment, answer, changed_by="api")

    async def _vouched(self, payment: Payment, payment_key: str, amount: Decimal, answer: PspResult) -> PspResult:
        """The approval didn't show the PSP's payment of this order: is ``payment_key`` this order's at all? A
        lookup by key decides. Another order's key (or, after a refusal, no such payment) is released — nothing
        was charged for this order by a request the PSP refused or couldn't match to it — and the order stays
        payable with its real key; the key is never bound to it."""
        found = await self._gateway.lookup(payment.order_id, amount, payment_key)
        refused = answer.evidence is not Evidence.IN_DOUBT
        if found.evidence is Evidence.FOREIGN or (refused and found.evidence is Evidence.NOT_FOUND):
            await self._record_verdict.release(payment)
            raise AppError(OrderError.PAYMENT_KEY_NOT_OF_ORDER)
        if refused and found.evidence is Evidence.IN_DOUBT:  # refused, and the PSP can't say whose key it is
            await self._record_verdict.release(payment)
            raise AppError(OrderError.PSP_UNAVAILABLE)
        return found if found.evidence in DECISIVE and answer.evidence is not Evidence.DECLINED else answer

    async def _start(self, payment_key: str, order_id: str, amount: Decimal, buyer: int | None) -> tuple[Payment, bool]:
        """tx1. Returns the payment and whether this call moved it to EXECUTING (and must ask the PSP)."""
        try:
            async with self._store.transaction() as tx:
                payment = await tx.load_for_update(order_id)
                if payment is None:
                    raise AppError(OrderError.ORDER_NOT_FOUND)
                if buyer is not None and payment.member_no != buyer:
                    raise AppError(AuthError.FORBIDDEN)  # another member's order: nothing about it is told
                if amount != payment.total_amount:
                    raise AppError(OrderError.INVALID_PAYMENT_AMOUNT)
                if payment.payment_key is not None and payment.payment_key != payment_key:
                    raise AppError(OrderError.PAYMENT_KEY_MISMATCH)
                in_doubt_key = payment.pending_payment_key if payment.status is PaymentStatus.UNKNOWN else None
                if in_doubt_key is not None and in_doubt_key != payment_key:
                    raise AppError(OrderError.PAYMENT_KEY_MISMATCH)  # the PSP hasn't answered about that one yet
                now = utcnow()
                if payment.status not in CONFIRMABLE or _backing_off(payment, now):
                    return payment, False
                moved = await tx.move(
                    payment, PaymentStatus.EXECUTING, reason="CONFIRM_STARTED", changed_by="api",
                    values=started_values(payment_key, payment.confirm_started_at or now, now + self._lease),
                )  # fmt: skip
                if moved:
                    await tx.commit()
                return payment, moved
        except PaymentKeyTaken as exc:  # the paymentKey already belongs to another order
            raise AppError(OrderError.PAYMENT_KEY_MISMATCH) from exc

    async def _wait_for_verdict(self, order_id: str) -> Payment:
        """Another confirm (or the recovery step) is executing this order: wait for its verdict."""
        deadline = time.monotonic() + self._wait_s
        recorded = self._record_verdict.recorded(order_id)
        while True:
            payment = await stored(self._store, order_id)
            if payment.status is not PaymentStatus.EXECUTING:
                return payment
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AppError(OrderError.PAYMENT_IN_PROGRESS)
            with contextlib.suppress(TimeoutError):  # woken by a verdict recorded here, or poll for another process
                await asyncio.wait_for(recorded.wait(), timeout=min(0.1, remaining))


def _backing_off(payment: Payment, now: dt.datetime) -> bool:
    """An UNKNOWN order waits for its next attempt: a buyer's confirm doesn't jump the backoff."""
    due = payment.next_attempt_at
    return payment.status is PaymentStatus.UNKNOWN and due is not None and due > now
