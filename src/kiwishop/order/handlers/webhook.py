"""A Toss webhook (``PAYMENT_STATUS_CHANGED``): a hint that a payment changed, never evidence. The payment is read
again at the PSP (``PaymentGateway.read``) and the order only moves forward, on that word:

- an order not paid yet (NOT_STARTED, UNKNOWN, QUARANTINED) whose payment the PSP reports DONE — an approval the
  shop never confirmed (the buyer's redirect or the confirm's answer was lost) — is claimed (→ EXECUTING, the
  PSP's paymentKey pending) and its verdict recorded by ``RecordVerdict`` from that payment: SUCCESS when the PSP
  vouches for this orderId, amount and key (another amount is compensated, as for a confirm);
- a paid order whose payment the PSP reports cancelled beyond the cancels the shop made — a cancel made outside
  it — gets a DONE cancel record with the PSP's data; the lines it took (``psp_sync.lines_for``) become CANCELED
  and PAYMENT_CANCELED goes out, in one transaction. While a cancel of the shop is undecided, or the order's
  cancels changed since the PSP was read, nothing is done and the webhook is answered 409 (the PSP retries it).

Anything else — an unknown order, a payment of another order, a state the order already shows — changes nothing.
A webhook that says DONE for an order past APPROVABLE, with the order's own paymentKey, is answered UNCHANGED
without asking the PSP: if the PSP agrees, DONE moves no such order; if it doesn't (a cancel since), that cancel
has a webhook of its own. Every paid order gets this webhook once, so it spares a PSP call per payment.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
from decimal import Decimal
from typing import Any

from kiwishop.order.cancellation import OPEN, Cancel, CancelStatus, payment_canceled
from kiwishop.order.domain import OrderError, Payment, PaymentKeyTaken, PaymentStatus, started_values
from kiwishop.order.handlers.verdict import RecordVerdict
from kiwishop.order.ports import CancelStore, IdSource, PaymentGateway
from kiwishop.order.psp_sync import lines_for, psp_cancels
from kiwishop.order.verdicts import judge_payment
from kiwishop.platform.clock import utcnow
from kiwishop.platform.db import retry_on_conflict
from kiwishop.platform.errors import AppError

log = logging.getLogger("kiwishop.order.webhook")
APPROVABLE = (PaymentStatus.NOT_STARTED, PaymentStatus.UNKNOWN, PaymentStatus.QUARANTINED)
CANCELABLE = (PaymentStatus.SUCCESS, PaymentStatus.PARTIAL_CANCELED)


class Synced(enum.StrEnum):
    """What a webhook led to."""

    UNKNOWN_ORDER = "UNKNOWN_ORDER"
    NOT_THIS_ORDER = "NOT_THIS_ORDER"  # the PSP knows no such payment, or it is another order's
    UNCHANGED = "UNCHANGED"  # the order already shows what the PSP says (or the PSP's state moves nothing)
    RECORDED = "RECORDED"  # a verdict recorded from the PSP's payment (see the order's status)
    CANCELED = "CANCELED"  # a cancel made outside the shop, recorded
    UNRESOLVED = "UNRESOLVED"  # the PSP cancelled an amount no set of the order's lines adds up to: a person decides


class SyncFromPsp:
    def __init__(
        self,
        store: CancelStore,
        gateway: PaymentGateway,
        record_verdict: RecordVerdict,
        ids: IdSource,
        *,
        lease: dt.timedelta,
    ) -> None:
        self._store = store
        self._gateway = gateway
        self._record_verdict = record_verdict
        self._ids = ids
        self._lease = lease

    async def __call__(self, order_id: str, payment_key: str, *, hinted: str | None = None) -> Synced:
        payment, cancels = await self._store.find_with_cancels(order_id)
        if payment is None:
            return Synced.UNKNOWN_ORDER
        if hinted == "DONE" and payment.status not in APPROVABLE and payment.payment_key == payment_key:
            return Synced.UNCHANGED  # nothing DONE could move (module docstring)
        seen = len(cancels)
        read = await self._gateway.read(payment_key)
        if read.in_doubt:
            raise AppError(OrderError.PSP_UNAVAILABLE)  # the PSP sends the webhook again later
        at_psp = read.payment
        if at_psp is None or at_psp.get("orderId") != order_id:
            return Synced.NOT_THIS_ORDER
        status = at_psp.get("status")
        if status == "DONE" and payment.status in APPROVABLE:
            return await self._approve(order_id, at_psp)
        cancelled = status in ("PARTIAL_CANCELED", "CANCELED") and at_psp.get("paymentKey") == payment.payment_key
        if cancelled and payment.status in CANCELABLE:
            return await retry_on_conflict(lambda: self._sync_cancels(order_id, at_psp, seen))
        return Synced.UNCHANGED

    async def _approve(self, order_id: str, at_psp: dict[str, Any]) -> Synced:
        key = str(at_psp.get("paymentKey") or "")
        claimed = await retry_on_conflict(lambda: self._claim(order_id, key))
        if claimed is None:
            return Synced.UNCHANGED  # a confirm is running (or has just decided): its verdict stands
        answer = judge_payment(at_psp, order_id, claimed.total_amount, key)
        recorded = await self._record_verdict(claimed, answer, changed_by="webhook")
        log.warning("order %s: the PSP reports it approved (webhook); recorded %s", order_id, recorded.status)
        return Synced.RECORDED

    async def _claim(self, order_id: str, key: str) -> Payment | None:
        """The unpaid order → EXECUTING with the PSP's paymentKey pending, as a confirm would (one attempt at a
        time); None when it is no longer unpaid or another attempt holds it."""
        try:
            async with self._store.transaction() as tx:
                payment = await tx.load_for_update(order_id)
                if payment is None or payment.status not in APPROVABLE:
                    return None
                now = utcnow()
                values = started_values(key, payment.confirm_started_at or now, now + self._lease)
                if not await tx.move(payment, PaymentStatus.EXECUTING, reason="PSP_WEBHOOK", changed_by="webhook",
                                     values=values):  # fmt: skip
                    return None
                await tx.commit()
                return payment
        except PaymentKeyTaken:
            log.error("order %s: the PSP approved it with paymentKey %s, which another order holds", order_id, key)
            return None

    async def _sync_cancels(self, order_id: str, at_psp: dict[str, Any], seen: int) -> Synced:
        summary = psp_cancels(at_psp)
        if summary is None:
            return Synced.UNCHANGED
        async with self._store.transaction() as tx:
            payment = await tx.load_for_update(order_id)
            cancels = await tx.cancels_of(order_id)
            if payment is None or len(cancels) != seen or any(c.status in OPEN for c in cancels):
                raise AppError(OrderError.CANCEL_IN_PROGRESS)  # ours may be among the PSP's: ask again later
            refunded = sum((c.amount for c in cancels if c.status is CancelStatus.DONE), Decimal(0))
            outside = summary.canceled - refunded
            if outside <= 0:
                if outside < 0:
                    log.error("order %s: the PSP reports %s cancelled, the shop %s", order_id, summary.canceled,
                              refunded)  # fmt: skip
                return Synced.UNCHANGED
            lines = lines_for(outside, payment.lines, everything=summary.balance == 0)
            if lines is None:
                log.error("order %s: %s was cancelled at the PSP outside the shop and no one set of its lines adds "
                          "up to it: a person must decide", order_id, outside)  # fmt: skip
                return Synced.UNRESOLVED
            cancel = Cancel(
                order_id=order_id, cancel_no=max((c.cancel_no for c in cancels), default=0) + 1,
                payment_event_no=payment.payment_event_no, payment_key=str(payment.payment_key),
                lines={line.payment_order_no: line.amount for line in lines}, amount=outside,
                reason=summary.reason[:200], status=CancelStatus.DONE,
            )  # fmt: skip
            await tx.add_cancel(cancel)
            values = {
                "canceled_at": summary.canceled_at,
                "psp_balance": summary.balance,
                "event_id": self._ids.next_id(),
            }
            await tx.update_cancel(cancel, values)
            reason = f"PSP_CANCELED_OUTSIDE:{cancel.cancel_no}"
            if not await tx.cancel_lines(payment, cancel, reason=reason, changed_by="webhook"):
                raise AppError(OrderError.CANCEL_IN_PROGRESS)
            await tx.add_event(payment_canceled(payment, cancel))
            await tx.commit()
        log.warning("order %s: cancel %s of %s made outside the shop recorded (lines %s)", order_id,
                    cancel.cancel_no, outside, cancel.line_nos)  # fmt: skip
        return Synced.CANCELED
