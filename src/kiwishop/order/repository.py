"""SQL for payments: insert an order, load it with its lines, guarded status transitions with history rows.
``store.py`` offers it to the handlers as the payment store; ``queries.py`` reads with it. The hot path's
statements are module constants with row builders beside them, so the benchmark's replay sends the same SQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Select, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from kiwishop.order.domain import Line, Payment, PaymentStatus
from kiwishop.order.tables import payment_events, payment_order_histories, payment_orders
from kiwishop.platform.clock import utcnow
from kiwishop.platform.db import UnitOfWork
from kiwishop.platform.ids import Snowflake

pe, po = payment_events, payment_orders

# The statements, built once — the service's only copy: the benchmark's DB-limit replay sends these same ones.
INSERT_EVENT = insert(pe)
INSERT_LINES = insert(po)
INSERT_HISTORY = insert(payment_order_histories)
# Every line from the status it was loaded with to another; the expected status is checked inside the UPDATE.
MOVE_LINES = (
    update(po)
    .where(po.c.order_id == bindparam("move_order_id"), po.c.payment_order_status == bindparam("move_from"))
    .values(payment_order_status=bindparam("move_to"), updated_at=bindparam("move_at"))
)
# The payment event's columns are set from the parameters' names (``event_update``).
UPDATE_EVENT = update(pe).where(pe.c.order_id == bindparam("event_order_id"))
WALLET_SETTLED = (
    update(pe)
    .where(pe.c.order_id == bindparam("settled_order_id"), pe.c.is_payment_done.is_(True))
    .values(is_wallet_done=True, settle_check_at=None)
)


def load_query(condition: Any, order_desc: bool = False) -> Select[Any]:
    """Payments with their lines, one joined row per line."""
    return (
        select(pe, po.c.payment_order_no, po.c.product_no, po.c.seller_no, po.c.product_name, po.c.amount,
               po.c.payment_order_status, po.c.failed_count, po.c.threshold, po.c.updated_at.label("line_updated_at"))
        .join(po, po.c.payment_event_no == pe.c.payment_event_no)
        .where(condition)
        .order_by(pe.c.payment_event_no.desc() if order_desc else pe.c.payment_event_no, po.c.payment_order_no)
    )  # fmt: skip


LOAD = load_query(pe.c.order_id == bindparam("order_id"))
# The order's mutex and its rows in one round trip: every transaction that changes an order reads it with this
# first, which locks the payment event row (found by its unique order_id) and then its lines (by the event's
# number) — always in that order, so two of them never deadlock on an order. READ COMMITTED: no gap locks.
LOAD_FOR_UPDATE = LOAD.with_for_update()


def event_row(payment: Payment, now: dt.datetime) -> dict[str, Any]:
    """The ``INSERT_EVENT`` row of a new payment."""
    return {
        "payment_event_no": payment.payment_event_no,
        "member_no": payment.member_no,
        "is_payment_done": False,
        "is_wallet_done": False,
        "order_id": payment.order_id,
        "type": "NORMAL",
        "order_name": payment.order_name,
        "method": "CARD",
        "total_amount": payment.total_amount,
        "created_at": now,
        "updated_at": now,
    }


def line_rows(payment: Payment, now: dt.datetime) -> list[dict[str, Any]]:
    """The ``INSERT_LINES`` rows of a new payment."""
    return [
        {
            "payment_order_no": line.payment_order_no,
            "payment_event_no": payment.payment_event_no,
            "product_no": line.product_no,
            "seller_no": line.seller_no,
            "order_id": payment.order_id,
            "product_name": line.product_name,
            "amount": line.amount,
            "payment_order_status": PaymentStatus.NOT_STARTED.value,
            "failed_count": 0,
            "threshold": line.threshold,
            "created_at": now,
            "updated_at": now,
        }
        for line in payment.lines
    ]


def history_rows(
    ids: Snowflake,
    previous: Sequence[tuple[int, PaymentStatus | None]],
    new: PaymentStatus,
    reason: str,
    changed_by: str,
    now: dt.datetime,
) -> list[dict[str, Any]]:
    """The ``INSERT_HISTORY`` rows of lines (number, status before) moving to ``new``."""
    return [
        {
            "payment_order_history_no": ids.next_id(),
            "payment_order_no": no,
            "previous_status": prev.value if prev else None,
            "new_status": new.value,
            "created_at": now,
            "updated_at": now,
            "changed_by": changed_by,
            "reason": reason[:255],
        }
        for no, prev in previous
    ]


def move_params(order_id: str, previous: PaymentStatus, to: PaymentStatus, now: dt.datetime) -> dict[str, Any]:
    """The parameters of ``MOVE_LINES``."""
    return {"move_order_id": order_id, "move_from": previous.value, "move_to": to.value, "move_at": now}


def event_update(order_id: str, now: dt.datetime, values: dict[str, Any] | None = None) -> dict[str, Any]:
    """The parameters of ``UPDATE_EVENT``: ``updated_at`` and ``values`` (column → value) of the order's event."""
    return {"event_order_id": order_id, "updated_at": now, **(values or {})}


async def insert_payment(uow: UnitOfWork, ids: Snowflake, payment: Payment, now: dt.datetime) -> None:
    await uow.run(INSERT_EVENT, event_row(payment, now))
    await uow.run_many(INSERT_LINES, line_rows(payment, now))
    previous = [(line.payment_order_no, None) for line in payment.lines]
    history = history_rows(ids, previous, PaymentStatus.NOT_STARTED, "CHECKOUT", "api", now)
    await uow.run_many(INSERT_HISTORY, history)


async def load_in(uow: UnitOfWork, order_id: str, *, for_update: bool = False) -> Payment | None:
    """``load_payment`` inside a unit of work, through the driver (the hot path's way)."""
    payments = payments_of(await uow.run(LOAD_FOR_UPDATE if for_update else LOAD, {"order_id": order_id}))
    return payments[0] if payments else None


async def load_payment(
    conn: AsyncConnection, *, order_id: str | None = None, payment_event_no: int | None = None, for_update: bool = False
) -> Payment | None:
    """One payment with its lines. ``for_update`` locks them (``LOAD_FOR_UPDATE``: the order's mutex)."""
    if order_id is not None:
        payments = payments_of(await conn.execute(LOAD_FOR_UPDATE if for_update else LOAD, {"order_id": order_id}))
    else:
        payments = await loadpayments_of(conn, pe.c.payment_event_no == payment_event_no)
    return payments[0] if payments else None


async def loadpayments_of(conn: AsyncConnection, condition: Any, order_desc: bool = False) -> list[Payment]:
    return payments_of(await conn.execute(load_query(condition, order_desc)))


def payments_of(rows: Iterable[Any]) -> list[Payment]:
    """The payments of ``load_query``'s joined rows (one per line), in the rows' order."""
    payments: dict[int, Payment] = {}
    for row in rows:
        payment = payments.get(row.payment_event_no)
        if payment is None:
            payment = payments[row.payment_event_no] = _payment_of(row)
        payment.lines.append(
            Line(
                payment_order_no=row.payment_order_no,
                product_no=row.product_no,
                seller_no=row.seller_no,
                product_name=row.product_name,
                amount=row.amount,
                status=PaymentStatus(row.payment_order_status),
                failed_count=row.failed_count,
                threshold=row.threshold,
            )
        )
        payment.updated_at = max(payment.updated_at or row.line_updated_at, row.line_updated_at)
    return list(payments.values())


def _payment_of(row: Any) -> Payment:
    """The payment event of a joined row (its lines are added one row at a time)."""
    return Payment(
        payment_event_no=row.payment_event_no,
        member_no=row.member_no,
        order_id=row.order_id,
        order_name=row.order_name,
        total_amount=row.total_amount,
        payment_key=row.payment_key,
        approved_at=row.approved_at,
        is_payment_done=bool(row.is_payment_done),
        is_wallet_done=bool(row.is_wallet_done),
        failure_code=row.failure_code,
        failure_message=row.failure_message,
        updated_at=row.line_updated_at,
        confirm_event_id=row.confirm_event_id,
        confirm_started_at=row.confirm_started_at,
        in_doubt_since=row.in_doubt_since,
        recovery_attempts=row.recovery_attempts,
        next_attempt_at=row.next_attempt_at,
        pending_payment_key=row.pending_payment_key,
    )


async def move(
    uow: UnitOfWork,
    ids: Snowflake,
    payment: Payment,
    to: PaymentStatus,
    *,
    reason: str,
    changed_by: str,
    event_values: dict[str, Any] | None = None,
) -> bool:
    """Move every line of the payment from the status it was loaded with to ``to``, with one history row
    per line, and write ``event_values`` to the payment event. The expected status is checked inside the
    UPDATE, so of two concurrent movers only one wins; the loser gets False and writes nothing.
    On success the in-memory ``payment`` reflects the new state."""
    now = utcnow()
    previous = payment.status
    result = await uow.run(MOVE_LINES, move_params(payment.order_id, previous, to, now))
    if result.rowcount != len(payment.lines):
        if result.rowcount:
            raise RuntimeError(f"order {payment.order_id}: lines out of step ({result.rowcount}/{len(payment.lines)})")
        return False
    lines = [(line.payment_order_no, previous) for line in payment.lines]
    await uow.run_many(INSERT_HISTORY, history_rows(ids, lines, to, reason, changed_by, now))
    extra = event_values or {}
    await uow.run(UPDATE_EVENT, event_update(payment.order_id, now, extra))
    for line in payment.lines:
        line.status = to
    for name, value in extra.items():
        setattr(payment, name, value)
    payment.updated_at = now
    return True
