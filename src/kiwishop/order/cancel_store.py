"""The cancel store on MariaDB: ``SqlCancelStore`` implements ``CancelStore`` (``ports.py``) — an order's cancels
(``payment_cancels`` with their lines in ``payment_cancel_lines``) beside the payment store's order, lines,
history and outbox, in one unit of work that holds the order's row lock."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import bindparam, insert, select, update

from kiwishop.order import repository
from kiwishop.order.cancellation import OPEN, Cancel, CancelStatus
from kiwishop.order.domain import Payment, PaymentStatus
from kiwishop.order.store import SqlPaymentTransaction
from kiwishop.order.tables import payment_cancel_lines, payment_cancels, payment_order_histories, payment_orders
from kiwishop.platform.clock import utcnow
from kiwishop.platform.db import Database, UnitOfWork
from kiwishop.platform.ids import Snowflake
from kiwishop.platform.outbox import Outbox

pc, pcl, po = payment_cancels, payment_cancel_lines, payment_orders

# Cancel attribute → column, for ``update_cancel``.
_COLUMNS = {
    "status": "status", "failure_code": "failure_code", "failure_message": "failure_message",
    "attempts": "attempts", "in_doubt_since": "in_doubt_since", "next_attempt_at": "next_attempt_at",
    "canceled_at": "canceled_at", "psp_balance": "psp_balance", "event_id": "event_id",
}  # fmt: skip
CANCELS_OF = (
    select(pc, pcl.c.payment_order_no, pcl.c.amount.label("line_amount"))
    .join(pcl, (pcl.c.order_id == pc.c.order_id) & (pcl.c.cancel_no == pc.c.cancel_no))
    .where(pc.c.order_id == bindparam("order_id"))
    .order_by(pc.c.cancel_no, pcl.c.payment_order_no)
)
DUE = (
    select(pc.c.order_id, pc.c.cancel_no)
    .where(pc.c.status.in_([s.value for s in OPEN]), pc.c.next_attempt_at <= bindparam("now"))
    .order_by(pc.c.next_attempt_at)
    .limit(bindparam("limit"))
)
# Every UNKNOWN cancel still backing off, made due now (the PSP answers again after an outage).
PULL_IN = (
    update(pc)
    .where(pc.c.status == CancelStatus.UNKNOWN.value, pc.c.next_attempt_at > bindparam("pull_now"))
    .values(next_attempt_at=bindparam("pull_now"))
)
# The cancel's lines from SUCCESS to CANCELED; the expected status is checked inside the UPDATE.
CANCEL_LINES = (
    update(po)
    .where(
        po.c.order_id == bindparam("o"),
        po.c.payment_order_no.in_(bindparam("nos", expanding=True)),
        po.c.payment_order_status == PaymentStatus.SUCCESS.value,
    )
    .values(payment_order_status=PaymentStatus.CANCELED.value, updated_at=bindparam("at"))
)


async def load_cancels(uow: UnitOfWork, order_id: str) -> list[Cancel]:
    cancels: dict[int, Cancel] = {}
    for row in await uow.run(CANCELS_OF, {"order_id": order_id}):
        cancel = cancels.get(row.cancel_no)
        if cancel is None:
            cancel = cancels[row.cancel_no] = _cancel_of(row)
        cancel.lines[row.payment_order_no] = row.line_amount
    return list(cancels.values())


def _cancel_of(row: Any) -> Cancel:
    return Cancel(
        order_id=row.order_id, cancel_no=row.cancel_no, payment_event_no=row.payment_event_no,
        payment_key=row.payment_key, lines={}, amount=row.amount,
        reason=row.reason, status=CancelStatus(row.status), next_attempt_at=row.next_attempt_at,
        failure_code=row.failure_code, failure_message=row.failure_message, attempts=row.attempts,
        in_doubt_since=row.in_doubt_since, canceled_at=row.canceled_at, psp_balance=row.psp_balance,
        event_id=row.event_id, created_at=row.created_at,
    )  # fmt: skip


class SqlCancelTransaction(SqlPaymentTransaction):
    """``CancelTransaction``: the payment transaction, plus the order's cancels."""

    async def cancels_of(self, order_id: str) -> list[Cancel]:
        return await load_cancels(self._uow, order_id)

    async def add_cancel(self, cancel: Cancel) -> None:
        now = utcnow()
        await self._uow.conn.execute(
            insert(pc),
            {
                "order_id": cancel.order_id, "cancel_no": cancel.cancel_no, "payment_event_no": cancel.payment_event_no,
                "payment_key": cancel.payment_key, "amount": cancel.amount, "reason": cancel.reason,
                "status": cancel.status.value, "idempotency_key": cancel.idempotency_key,
                "attempts": cancel.attempts, "next_attempt_at": cancel.next_attempt_at, "created_at": now,
                "updated_at": now,
            },
        )  # fmt: skip
        line_rows = [
            {"order_id": cancel.order_id, "cancel_no": cancel.cancel_no, "payment_order_no": no, "amount": amount}
            for no, amount in sorted(cancel.lines.items())
        ]
        await self._uow.conn.execute(insert(pcl), line_rows)
        cancel.created_at = now

    async def update_cancel(self, cancel: Cancel, values: Mapping[str, object]) -> None:
        columns = {_COLUMNS[k]: v.value if isinstance(v, enum.Enum) else v for k, v in values.items()}
        stmt = update(pc).where(pc.c.order_id == cancel.order_id, pc.c.cancel_no == cancel.cancel_no)
        await self._uow.conn.execute(stmt.values(**columns, updated_at=utcnow()))
        for name, value in values.items():
            setattr(cancel, name, value)

    async def cancel_lines(self, payment: Payment, cancel: Cancel, *, reason: str, changed_by: str) -> bool:
        now = utcnow()
        params = {"o": payment.order_id, "nos": list(cancel.line_nos), "at": now}
        moved = await self._uow.conn.execute(CANCEL_LINES, params)
        if moved.rowcount != len(cancel.line_nos):
            if moved.rowcount:
                raise RuntimeError(f"order {payment.order_id}: cancel {cancel.cancel_no}'s lines out of step")
            return False
        previous = [(no, PaymentStatus.SUCCESS) for no in cancel.line_nos]
        history = repository.history_rows(self._ids, previous, PaymentStatus.CANCELED, reason, changed_by, now)
        await self._uow.conn.execute(insert(payment_order_histories), history)
        await self._uow.conn.execute(repository.UPDATE_EVENT, repository.event_update(payment.order_id, now))
        chosen = set(cancel.line_nos)
        for line in payment.lines:
            if line.payment_order_no in chosen:
                line.status = PaymentStatus.CANCELED
        payment.updated_at = now
        return True


class SqlCancelStore:
    """``CancelStore`` on the order schema; PAYMENT_CANCELED goes to ``topic``."""

    def __init__(self, db: Database, ids: Snowflake, outbox: Outbox, *, topic: str) -> None:
        self._db = db
        self._ids = ids
        self._outbox = outbox
        self._topic = topic

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqlCancelTransaction]:
        async with self._db.uow() as uow:
            yield SqlCancelTransaction(uow, self._ids, self._outbox, self._topic)

    async def find(self, order_id: str) -> Payment | None:
        async with self._db.uow() as uow:  # a read: nothing is committed
            return await repository.load_in(uow, order_id)

    async def find_with_cancels(self, order_id: str) -> tuple[Payment | None, list[Cancel]]:
        async with self._db.uow() as uow:  # two reads, one round trip to end them
            payment = await repository.load_in(uow, order_id)
            return payment, (await load_cancels(uow, order_id) if payment is not None else [])

    async def due_cancels(self, now: dt.datetime, limit: int) -> list[tuple[str, int]]:
        async with self._db.engine.connect() as conn:
            return [(r.order_id, r.cancel_no) for r in await conn.execute(DUE, {"now": now, "limit": limit})]

    async def bring_forward_cancels(self, now: dt.datetime) -> int:
        async with self._db.uow() as uow:
            moved = await uow.conn.execute(PULL_IN, {"pull_now": now})
            await uow.commit()
        return int(moved.rowcount)
