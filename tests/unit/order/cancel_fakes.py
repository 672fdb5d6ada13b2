"""In-memory ``CancelStore`` for the cancel handlers' unit tests: the payment store's fakes (``fakes.py``) plus an
order's cancels, on the same copy-on-commit rows."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

from kiwishop.order.cancellation import OPEN, Cancel, CancelResult, CancelStatus
from kiwishop.order.domain import Payment, PaymentStatus
from kiwishop.order.handlers.cancel import CancelPayment
from kiwishop.order.handlers.cancel_record import RecordCancel
from kiwishop.order.handlers.cancel_recovery import RecoverCancels
from tests.unit.order.fakes import TIMING, FakeGateway, FakeIds, FakePaymentStore, FakeTransaction, History


class FakeCancelTransaction(FakeTransaction):
    async def cancels_of(self, order_id: str) -> list[Cancel]:
        return copy.deepcopy(self.rows.cancels.get(order_id, []))

    async def add_cancel(self, cancel: Cancel) -> None:
        self.rows.cancels.setdefault(cancel.order_id, []).append(copy.deepcopy(cancel))

    async def update_cancel(self, cancel: Cancel, values: Mapping[str, object]) -> None:
        stored = next(c for c in self.rows.cancels[cancel.order_id] if c.cancel_no == cancel.cancel_no)
        for row in (stored, cancel):
            for name, value in values.items():
                setattr(row, name, value)

    async def cancel_lines(self, payment: Payment, cancel: Cancel, *, reason: str, changed_by: str) -> bool:
        stored = self.rows.payments[payment.order_id]
        lines = [line for line in stored.lines if line.payment_order_no in cancel.lines]
        if any(line.status is not PaymentStatus.SUCCESS for line in lines):
            return False
        for row in (stored, payment):
            for line in row.lines:
                if line.payment_order_no in cancel.lines:
                    line.status = PaymentStatus.CANCELED
        for line in lines:
            self.rows.history.append(
                History(payment.order_id, line.payment_order_no, PaymentStatus.SUCCESS, PaymentStatus.CANCELED,
                        reason, changed_by)
            )  # fmt: skip
        return True


class FakeCancelStore(FakePaymentStore):
    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[FakeCancelTransaction]:
        self.transactions += 1
        yield FakeCancelTransaction(self)

    async def due_cancels(self, now: dt.datetime, limit: int) -> list[tuple[str, int]]:
        due = [
            c
            for cancels in self.rows.cancels.values()
            for c in cancels
            if c.status in OPEN and c.next_attempt_at is not None and c.next_attempt_at <= now
        ]
        return [(c.order_id, c.cancel_no) for c in sorted(due, key=lambda c: c.next_attempt_at or now)][:limit]

    async def find_with_cancels(self, order_id: str) -> tuple[Payment | None, list[Cancel]]:
        payment = copy.deepcopy(self.rows.payments.get(order_id))
        return payment, copy.deepcopy(self.rows.cancels.get(order_id, [])) if payment is not None else []

    async def bring_forward_cancels(self, now: dt.datetime) -> int:
        waiting = [
            c
            for cancels in self.rows.cancels.values()
            for c in cancels
            if c.status is CancelStatus.UNKNOWN and c.next_attempt_at is not None and c.next_attempt_at > now
        ]
        for cancel in waiting:
            cancel.next_attempt_at = now
        return len(waiting)

    def cancels(self, order_id: str = "order-1") -> list[Cancel]:
        return self.rows.cancels.get(order_id, [])


def handlers(store: FakeCancelStore, gateway: FakeGateway) -> tuple[CancelPayment, RecoverCancels]:
    record = RecordCancel(store, FakeIds(), TIMING)
    return (
        CancelPayment(store, gateway, record, lease=TIMING.lease),
        RecoverCancels(store, gateway, record, lease=TIMING.lease),
    )


def lines_of(result: CancelResult) -> dict[int, PaymentStatus]:
    return {line.payment_order_no: line.status for line in result.payment.lines}
