"""Confirm a payment: tx1 (load the order under a row lock, validate, guarded move to EXECUTING) → the PSP
call outside any transaction → the verdict the PSP's answer allows (``verdicts``; a mismatching approval is
cancelled at the PSP first) → tx2 (guarded move to the verdict, history, and on SUCCESS the PAYMENT_CONFIRM
outbox row). SUCCESS and FAILURE are terminal; confirming a finished order returns what is stored.

An order in doubt (UNKNOWN) is asked about again by the recovery worker with per-order backoff
(``next_attempt_at``); a buyer's confirm meanwhile counts toward nothing: while the order is backing off it
gets the stored state (202), once it is due it asks the PSP like the worker would. EXECUTING carries a lease
in ``next_attempt_at``: past it, the recovery worker takes the order over (the confirm died mid-way).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.exc import IntegrityError

from kiwishop.contracts.events import PAYMENT_CONFIRM
from kiwishop.order import repository
from kiwishop.order.domain import CONFIRMABLE, OrderError, Payment, PaymentStatus, confirm_payload
from kiwishop.order.metrics import PaymentMetrics
from kiwishop.order.psp import TossClient
from kiwishop.order.verdicts import Evidence, Policy, PspResult, Verdict, backoff, compensated, verdict
from kiwishop.platform.clock import utcnow
from kiwishop.platform.db import Database, retry_on_conflict
from kiwishop.platform.errors import AppError
from kiwishop.platform.ids import Snowflake
from kiwishop.platform.outbox import Outbox

log = logging.getLogger("kiwishop.order.confirm")


@dataclass(frozen=True)
class Timing:
    policy: Policy
    lease: dt.timedelta  # how long an EXECUTING confirm may run before it is taken over
    quarantine_recheck: dt.timedelta  # how often the PSP is asked again about a quarantined order
    settlement_grace: dt.timedelta  # how long a paid order may wait for wallet before PAYMENT_CONFIRM is re-sent


class PaymentConfirmation:
    def __init__(
        self,
        db: Database,
        ids: Snowflake,
        outbox: Outbox,
        psp: TossClient,
        timing: Timing,
        *,
        metrics: PaymentMetrics | None = None,
        wait_s: float,
        topic: str,
    ) -> None:
        self._db = db
        self._ids = ids
        self._outbox = outbox
        self._psp = psp
        self.timing = timing
        self._metrics = metrics
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
                now = utcnow()
                if payment.status not in CONFIRMABLE or _backing_off(payment, now):
                    return payment, False
                moved = await repository.move(
                    uow, self._ids, payment, PaymentStatus.EXECUTING, reason="CONFIRM_STARTED", changed_by="api",
                    event_values={"payment_key": payment_key, "confirm_started_at": payment.confirm_started_at or now,
                                  "next_attempt_at": now + self.timing.lease},
                )  # fmt: skip
                if moved:
                    await uow.commit()
                return payment, moved
        except IntegrityError as exc:  # the paymentKey already belongs to another order
            raise AppError(OrderError.PAYMENT_KEY_MISMATCH) from exc

    async def finish(self, payment: Payment, result: PspResult, *, changed_by: str) -> Payment:
        """From the PSP's answer to the recorded verdict (tx2). If someone else settled it meanwhile, theirs stands."""
        decided = await self._judge(payment, result)
        recorded = await retry_on_conflict(lambda: self._record(payment.order_id, decided, changed_by))
        self._notify(payment.order_id)
        return recorded or await self.load(payment.order_id)

    async def _judge(self, payment: Payment, result: PspResult) -> Verdict:
        if result.evidence is Evidence.MISMATCH and result.payment_key:
            log.error("order %s: %s — cancelling payment %s at the PSP", payment.order_id, result.message,
                      result.payment_key)  # fmt: skip
            cancel = await self._psp.cancel(result.payment_key, payment.order_id, f"kiwi-shop: {result.code}")
            return compensated(result, cancel)
        return verdict(
            result, now=utcnow(), confirm_started_at=payment.confirm_started_at,
            in_doubt_since=payment.in_doubt_since, policy=self.timing.policy,
        )  # fmt: skip

    async def _record(self, order_id: str, decided: Verdict, changed_by: str) -> Payment | None:
        """tx2: EXECUTING → the verdict, under the order's row lock, on fresh rows."""
        async with self._db.uow() as uow:
            payment = await repository.load_payment(uow.conn, order_id=order_id, for_update=True)
            if payment is None or payment.status is not PaymentStatus.EXECUTING:
                return None
            now = utcnow()
            values = self._outcome_values(payment, decided, now, counted=changed_by == "recovery")
            moved = await repository.move(
                uow, self._ids, payment, decided.status, reason=decided.reason, changed_by=changed_by,
                event_values=values,
            )  # fmt: skip
            if not moved:
                return None
            if decided.status is PaymentStatus.SUCCESS:
                await self._outbox.add(
                    uow, topic=self._topic, key=order_id, event_type=PAYMENT_CONFIRM.name,
                    payload=dict(confirm_payload(payment)), idempotency_key=f"{PAYMENT_CONFIRM.name}:{order_id}",
                    event_id=int(values["confirm_event_id"]),
                )  # fmt: skip
            await uow.commit()
        self._observe(payment, decided)
        return payment

    def _outcome_values(self, payment: Payment, decided: Verdict, now: dt.datetime, *, counted: bool) -> dict[str, Any]:
        code, message = (decided.code or "")[:100] or None, (decided.message or "")[:500] or None
        if decided.status is PaymentStatus.SUCCESS:
            return {"is_payment_done": True, "approved_at": decided.approved_at, "failure_code": None,
                    "failure_message": None, "next_attempt_at": None, "confirm_event_id": self._ids.next_id(),
                    "settle_check_at": now + self.timing.settlement_grace}  # fmt: skip
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
        if self._metrics is not None:
            self._metrics.verdicts.labels(decided.status.value, decided.code or "").inc()

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


def _backing_off(payment: Payment, now: dt.datetime) -> bool:
    """An UNKNOWN order waits for its next attempt: a buyer's confirm doesn't jump the backoff."""
    due = payment.next_attempt_at
    return payment.status is PaymentStatus.UNKNOWN and due is not None and due > now
