"""Cancel lines of a paid order (give the money back): tx1 (load the order under its row lock, validate, record
the cancel EXECUTING with a lease) → ask the PSP to cancel the lines' sum, outside any transaction, with the
cancel's own Idempotency-Key → record what the answer proves (``RecordCancel``, tx2).

The rules, checked in tx1 before the PSP is asked (a refused request changes nothing):

- an unknown order is PEC0004; lines that are not the order's, repeated, or none at all are PEC0014;
- only a paid order is cancelled (PEC0012 otherwise); the amount is the lines' sum, whole won (PEC0003);
- one cancel at a time per order: while one is undecided (EXECUTING / UNKNOWN), asking for the same lines gets
  it back (202) and asking for others is PEC0013;
- lines already cancelled get their stored result (no second cancel at the PSP); cancelled and uncancelled lines
  mixed are PEC0019. Without a list, every line not cancelled yet is cancelled.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal

from kiwishop.order.cancellation import OPEN, Cancel, CancelResult, CancelStatus
from kiwishop.order.domain import PAID, OrderError, Payment, PaymentStatus
from kiwishop.order.handlers.cancel_record import RecordCancel
from kiwishop.order.ports import CancelStore, PaymentGateway
from kiwishop.platform.clock import utcnow
from kiwishop.platform.db import retry_on_conflict
from kiwishop.platform.errors import AppError


class CancelPayment:
    def __init__(
        self, store: CancelStore, gateway: PaymentGateway, record_cancel: RecordCancel, *, lease: dt.timedelta
    ) -> None:
        self._store = store
        self._gateway = gateway
        self._record_cancel = record_cancel
        self._lease = lease

    async def __call__(self, order_id: str, reason: str, line_nos: list[int] | None = None) -> CancelResult:
        """``line_nos``: the paymentOrderNo of the lines to cancel; None: every line not cancelled yet."""
        result, started = await retry_on_conflict(lambda: self._start(order_id, reason, line_nos))
        if not started:
            return result
        cancel = result.cancel
        answer = await self._gateway.refund(
            cancel.payment_key, amount=cancel.amount, reason=cancel.reason, idempotency_key=cancel.idempotency_key
        )
        return await self._record_cancel(order_id, cancel.cancel_no, answer, changed_by="api")

    async def _start(self, order_id: str, reason: str, line_nos: list[int] | None) -> tuple[CancelResult, bool]:
        """tx1. The cancel to answer with, and whether this call recorded it (and must ask the PSP)."""
        async with self._store.transaction() as tx:
            payment = await tx.load_for_update(order_id)
            if payment is None:
                raise AppError(OrderError.ORDER_NOT_FOUND)
            wanted = _wanted(payment, line_nos)
            if payment.status not in PAID or payment.payment_key is None:
                raise AppError(OrderError.ORDER_NOT_PAID)
            cancels = await tx.cancels_of(order_id)
            undecided = [c for c in cancels if c.status in OPEN]
            if undecided:
                return _same_or_busy(payment, undecided[-1], wanted), False
            stored = _stored(payment, cancels, wanted)
            if stored is not None:
                return stored, False
            lines = {line.payment_order_no: line.amount for line in payment.lines if line.payment_order_no in wanted}
            amount = sum(lines.values(), Decimal(0))
            if amount != amount.to_integral_value():
                raise AppError(OrderError.NON_INTEGER_AMOUNT, amount=amount)
            cancel = Cancel(
                order_id=order_id, cancel_no=max((c.cancel_no for c in cancels), default=0) + 1,
                payment_event_no=payment.payment_event_no, payment_key=payment.payment_key, lines=lines,
                amount=amount, reason=reason, status=CancelStatus.EXECUTING, next_attempt_at=utcnow() + self._lease,
            )  # fmt: skip
            await tx.add_cancel(cancel)
            await tx.commit()
            return CancelResult(payment, cancel), True


def _wanted(payment: Payment, line_nos: list[int] | None) -> set[int]:
    """The lines asked for (PEC0014 unless each is one of the order's, once); None: every line not cancelled."""
    if line_nos is None:
        return {line.payment_order_no for line in payment.lines if line.status is not PaymentStatus.CANCELED}
    own = {line.payment_order_no for line in payment.lines}
    repeated = [no for no, n in Counter(line_nos).items() if n > 1]
    foreign = [no for no in line_nos if no not in own]
    if not line_nos or repeated or foreign:
        raise AppError(OrderError.INVALID_CANCEL_LINES, lines=sorted(set(repeated + foreign)))
    return set(line_nos)


def _same_or_busy(payment: Payment, undecided: Cancel, wanted: set[int]) -> CancelResult:
    """An undecided cancel of the order: the same lines get it back (in doubt, 202); other lines must wait."""
    if wanted and wanted != set(undecided.lines):
        raise AppError(OrderError.CANCEL_IN_PROGRESS)
    return CancelResult(payment, undecided)


def _stored(payment: Payment, cancels: list[Cancel], wanted: set[int]) -> CancelResult | None:
    """Lines already cancelled: the newest DONE cancel of them (nothing is asked again); None when none is."""
    done = {line.payment_order_no for line in payment.lines if line.status is PaymentStatus.CANCELED}
    if wanted and not wanted & done:
        return None
    covering = [c for c in cancels if c.status is CancelStatus.DONE and (set(c.lines) & wanted or not wanted)]
    if not wanted <= done or not covering:
        raise AppError(OrderError.LINES_ALREADY_CANCELED, lines=sorted(wanted & done))
    return CancelResult(payment, covering[-1])
