"""SQL for payments: insert an order, load it with its lines, guarded status transitions with history rows.
``store.py`` offers it to the handlers as the payment store; ``queries.py`` reads with it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from kiwishop.order.domain import Line, Payment, PaymentStatus
from kiwishop.order.tables import payment_events, payment_order_histories, payment_orders
from kiwishop.platform.clock import utcnow
from kiwishop.platform.db import UnitOfWork
from kiwishop.platform.ids import Snowflake

pe, po = payment_events, payment_orders


async def insert_payment(uow: UnitOfWork, ids: Snowflake, payment: Payment, now: dt.datetime) -> None:
    await uow.conn.execute(
        insert(pe).values(
            payment_event_no=payment.payment_event_no,
            member_no=payment.member_no,
            is_payment_done=False,
            is_wallet_done=False,
            order_id=payment.order_id,
            type="NORMAL",
            order_name=payment.order_name,
            method="CARD",
            total_amount=payment.total_amount,
            created_at=now,
            updated_at=now,
        )
    )
    await uow.conn.execute(
        insert(po),
        [
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
        ],
    )
    await _history(
        uow, ids, [(line.payment_order_no, None) for line in payment.lines], PaymentStatus.NOT_STARTED,
        "CHECKOUT", "api", now,
    )  # fmt: skip


async def load_payment(
    conn: AsyncConnection, *, order_id: str | None = None, payment_event_no: int | None = None, for_update: bool = False
) -> Payment | None:
    """One payment with its lines. ``for_update`` first locks the payment event row — the order's mutex:
    every transaction that changes an order takes this lock first, so they never deadlock on its lines."""
    condition = pe.c.order_id == order_id if order_id is not None else pe.c.payment_event_no == payment_event_no
    if for_update:
        await conn.execute(select(pe.c.payment_event_no).where(condition).with_for_update())
    payments = await load_payments(conn, condition)
    return payments[0] if payments else None


async def lock_payment(conn: AsyncConnection, order_id: str) -> None:
    await conn.execute(select(pe.c.payment_event_no).where(pe.c.order_id == order_id).with_for_update())


async def load_payments(conn: AsyncConnection, condition: Any, order_desc: bool = False) -> list[Payment]:
    query = (
        select(pe, po.c.payment_order_no, po.c.product_no, po.c.seller_no, po.c.product_name, po.c.amount,
               po.c.payment_order_status, po.c.failed_count, po.c.threshold, po.c.updated_at.label("line_updated_at"))
        .join(po, po.c.payment_event_no == pe.c.payment_event_no)
        .where(condition)
        .order_by(pe.c.payment_event_no.desc() if order_desc else pe.c.payment_event_no, po.c.payment_order_no)
    )  # fmt: skip
    payments: dict[int, Payment] = {}
    for row in await conn.execute(query):
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
    values: dict[str, Any] = {"payment_order_status": to.value, "updated_at": now}
    result = await uow.conn.execute(
        update(po)
        .where(po.c.order_id == payment.order_id, po.c.payment_order_status == previous.value)
        .values(**values)
    )
    if result.rowcount != len(payment.lines):
        if result.rowcount:
            raise RuntimeError(f"order {payment.order_id}: lines out of step ({result.rowcount}/{len(payment.lines)})")
        return False
    await _history(uow, ids, [(line.payment_order_no, previous) for line in payment.lines], to, reason, changed_by, now)
    extra = event_values or {}
    await uow.conn.execute(update(pe).where(pe.c.order_id == payment.order_id).values(updated_at=now, **extra))
    for line in payment.lines:
        line.status = to
    for name, value in extra.items():
        setattr(payment, name, value)
    payment.updated_at = now
    return True


async def _history(
    uow: UnitOfWork,
    ids: Snowflake,
    previous: Sequence[tuple[int, PaymentStatus | None]],
    new: PaymentStatus,
    reason: str,
    changed_by: str,
    now: dt.datetime,
) -> None:
    await uow.conn.execute(
        insert(payment_order_histories),
        [
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
        ],
    )
