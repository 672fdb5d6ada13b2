"""Confirm a payment: tx1 (guarded move to EXECUTING) → PSP call outside any transaction → tx2 (outcome,
history, outbox). SUCCESS and FAILURE are terminal; confirming a finished order returns what is stored."""

from __future__ import annotations

import asyncio
import contextlib
import time
from decimal import Decimal

from sqlalchemy.exc import IntegrityError

from kiwishop.contracts.topics import PAYMENT
from kiwishop.order import repository
from kiwishop.order.domain import (
    CONFIRMABLE,
    PAYMENT_CONFIRM,
    TERMINAL,
    OrderError,
    Payment,
    PaymentStatus,
    PspResult,
    confirm_payload,
)
from kiwishop.order.psp import TossClient
from kiwishop.platform.db import Database, UnitOfWork
from kiwishop.platform.errors import AppError
from kiwishop.platform.ids import Snowflake
from kiwishop.platform.outbox import Outbox


class PaymentConfirmation:
    def __init__(self, db: Database, ids: Snowflake, outbox: Outbox, psp: TossClient, *, wait_s: float = 10.0) -> None:
        self._db = db
        self._ids = ids
        self._outbox = outbox
        self._psp = psp
        self._wait_s = wait_s
        self._settled: dict[str, asyncio.Event] = {}

    async def load(self, order_id: str) -> Payment:
        async with self._db.engine.connect() as conn:
            payment = await repository.load_payment(conn, order_id=order_id)
        if payment is None:
            raise AppError(OrderError.ORDER_NOT_FOUND)
        return payment

    async def confirm(self, payment_key: str, order_id: str, amount: Decimal) -> Payment:
        payment = await self.load(order_id)
        if amount != payment.total_amount:
            raise AppError(OrderError.INVALID_PAYMENT_AMOUNT)
        if payment.payment_key is not None and payment.payment_key != payment_key:
            raise AppError(OrderError.PAYMENT_KEY_MISMATCH)
        if payment.status in TERMINAL:
            return payment
        if payment.status is PaymentStatus.EXECUTING or not await self._start(order_id, payment_key):
            return await self._wait_for_outcome(order_id)
        result = await self._psp.confirm(payment_key, order_id, amount)
        return await self.finish(order_id, result, changed_by="api")

    async def _start(self, order_id: str, payment_key: str) -> bool:
        try:
            async with self._db.uow() as uow:
                moved = await repository.transition(
                    uow, self._ids, order_id, CONFIRMABLE, PaymentStatus.EXECUTING,
                    reason="CONFIRM_STARTED", changed_by="api",
                )  # fmt: skip
                if not moved:
                    return False
                await repository.update_event(uow, order_id, payment_key=payment_key)
                await uow.commit()
                return True
        except IntegrityError as exc:  # the paymentKey already belongs to another order
            raise AppError(OrderError.PAYMENT_KEY_MISMATCH) from exc

    async def finish(self, order_id: str, result: PspResult, *, changed_by: str) -> Payment:
        """EXECUTING → the PSP's verdict, in one transaction with its history rows and (on SUCCESS) the
        PAYMENT_CONFIRM outbox row built from the updated rows."""
        async with self._db.uow() as uow:
            reason = {
                PaymentStatus.SUCCESS: "PSP_APPROVED",
                PaymentStatus.FAILURE: f"PSP_DECLINED:{result.code}",
                PaymentStatus.UNKNOWN: f"PSP_IN_DOUBT:{result.code}",
            }[result.status]
            moved = await repository.transition(
                uow, self._ids, order_id, (PaymentStatus.EXECUTING,), result.status,
                reason=reason, changed_by=changed_by, count_failure=result.status is PaymentStatus.UNKNOWN,
            )  # fmt: skip
            if moved:
                await self._record_outcome(uow, order_id, result)
                await uow.commit()
        self._notify(order_id)
        return await self.load(order_id)

    async def _record_outcome(self, uow: UnitOfWork, order_id: str, result: PspResult) -> None:
        if result.status is PaymentStatus.SUCCESS:
            await repository.update_event(
                uow, order_id, is_payment_done=True, approved_at=result.approved_at, failure_code=None,
                failure_message=None,
            )  # fmt: skip
            payment = await repository.load_payment(uow.conn, order_id=order_id)
            assert payment is not None
            await self._outbox.add(
                uow, topic=PAYMENT, key=order_id, event_type=PAYMENT_CONFIRM, payload=confirm_payload(payment),
                idempotency_key=f"{PAYMENT_CONFIRM}:{order_id}",
            )  # fmt: skip
        else:
            await repository.update_event(
                uow, order_id, failure_code=(result.code or "")[:100], failure_message=(result.message or "")[:500]
            )

    async def _wait_for_outcome(self, order_id: str) -> Payment:
        """Another confirm (or the recovery worker) is executing this order: wait for its verdict."""
        deadline = time.monotonic() + self._wait_s
        event = self._settled.setdefault(order_id, asyncio.Event())
        while True:
            payment = await self.load(order_id)
            if payment.status is not PaymentStatus.EXECUTING:
                return payment
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AppError(OrderError.PAYMENT_IN_PROGRESS)
            with contextlib.suppress(TimeoutError):  # woken by a local finish, or poll for another process
                await asyncio.wait_for(event.wait(), timeout=min(0.1, remaining))

    def _notify(self, order_id: str) -> None:
        event = self._settled.pop(order_id, None)
        if event is not None:
            event.set()
