"""Confirm a payment: tx1 (load the order under a row lock, validate, guarded move to EXECUTING) → the PSP
call outside any transaction → tx2 (guarded move to the verdict, history, outbox). SUCCESS and FAILURE
are terminal; confirming a finished order returns what is stored."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import time
from decimal import Decimal

from sqlalchemy.exc import IntegrityError

from kiwishop.contracts.topics import PAYMENT
from kiwishop.order import repository
from kiwishop.order.domain import (
    CONFIRMABLE,
    PAYMENT_CONFIRM,
    OrderError,
    Payment,
    PaymentStatus,
    PspResult,
    confirm_payload,
)
from kiwishop.order.psp import TossClient
from kiwishop.platform.db import Database, retry_on_conflict
from kiwishop.platform.errors import AppError
from kiwishop.platform.ids import Snowflake
from kiwishop.platform.outbox import Outbox

REASONS = {
    PaymentStatus.SUCCESS: "PSP_APPROVED",
    PaymentStatus.FAILURE: "PSP_DECLINED:{code}",
    PaymentStatus.UNKNOWN: "PSP_IN_DOUBT:{code}",
}


class PaymentConfirmation:
    def __init__(
        self,
        db: Database,
        ids: Snowflake,
        outbox: Outbox,
        psp: TossClient,
        *,
        wait_s: float = 10.0,
        topic: str = PAYMENT,
    ) -> None:
        self._db = db
        self._ids = ids
        self._outbox = outbox
        self._psp = psp
        self._wait_s = wait_s
        self._topic = topic
        self._settled: dict[str, asyncio.Event] = {}

    async def load(self, order_id: str) -> Payment:
        async with self._db.engine.connect() as conn:
            payment = await repository.load_payment(conn, order_id=order_id)
        if payment is None:
            raise AppError(OrderError.ORDER_NOT_FOUND)
        return payment

    async def confirm(self, payment_key: str, order_id: str, amount: Decimal) -> Payment:
        payment, started = await retry_on_conflict(lambda: self._start(payment_key, order_id, amount))
        if not started:
            if payment.status is PaymentStatus.EXECUTING:
                return await self._wait_for_outcome(order_id)
            return payment
        result = await self._psp.confirm(payment_key, order_id, amount)
        return await self.finish(payment, result, changed_by="api")

    async def _start(self, payment_key: str, order_id: str, amount: Decimal) -> tuple[Payment, bool]:
        """tx1. Returns the payment and whether this call moved it to EXECUTING (and must call the PSP)."""
        try:
            async with self._db.uow() as uow:
                payment = await repository.load_payment(uow.conn, order_id=order_id, for_update=True)
                if payment is None:
                    raise AppError(OrderError.ORDER_NOT_FOUND)
                if amount != payment.total_amount:
                    raise AppError(OrderError.INVALID_PAYMENT_AMOUNT)
                if payment.payment_key is not None and payment.payment_key != payment_key:
                    raise AppError(OrderError.PAYMENT_KEY_MISMATCH)
                if payment.status not in CONFIRMABLE:
                    return payment, False
                moved = await repository.move(
                    uow, self._ids, payment, PaymentStatus.EXECUTING, reason="CONFIRM_STARTED", changed_by="api",
                    event_values={"payment_key": payment_key},
                )  # fmt: skip
                if moved:
                    await uow.commit()
                return payment, moved
        except IntegrityError as exc:  # the paymentKey already belongs to another order
            raise AppError(OrderError.PAYMENT_KEY_MISMATCH) from exc

    async def finish(self, payment: Payment, result: PspResult, *, changed_by: str) -> Payment:
        """tx2: EXECUTING → the PSP's verdict, with its history rows and (on SUCCESS) the PAYMENT_CONFIRM
        outbox row built from the updated state. If someone else settled it meanwhile, theirs stands."""
        if result.status is PaymentStatus.SUCCESS:
            outcome: dict[str, object] = {
                "is_payment_done": True, "approved_at": result.approved_at, "failure_code": None,
                "failure_message": None,
            }  # fmt: skip
        else:
            outcome = {"failure_code": (result.code or "")[:100], "failure_message": (result.message or "")[:500]}
        recorded = await retry_on_conflict(lambda: self._record(payment, result, outcome, changed_by))
        self._notify(payment.order_id)
        return recorded or await self.load(payment.order_id)

    async def _record(
        self, loaded: Payment, result: PspResult, outcome: dict[str, object], changed_by: str
    ) -> Payment | None:
        """One attempt of tx2 on a copy of the loaded payment (a retried attempt starts from it again)."""
        payment = copy.deepcopy(loaded)
        async with self._db.uow() as uow:
            await repository.lock_payment(uow.conn, payment.order_id)
            moved = await repository.move(
                uow, self._ids, payment, result.status, reason=REASONS[result.status].format(code=result.code),
                changed_by=changed_by, count_failure=result.status is PaymentStatus.UNKNOWN, event_values=outcome,
            )  # fmt: skip
            if moved:
                if result.status is PaymentStatus.SUCCESS:
                    await self._outbox.add(
                        uow, topic=self._topic, key=payment.order_id, event_type=PAYMENT_CONFIRM,
                        payload=confirm_payload(payment), idempotency_key=f"{PAYMENT_CONFIRM}:{payment.order_id}",
                    )  # fmt: skip
                await uow.commit()
            return payment if moved else None

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
