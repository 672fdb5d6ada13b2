"""Order's reads: a payment's current result, the read APIs O5, O6, O7 (cursor pages of whole payment events),
the cancels the 내 주문 page shows, and the counts behind the gauges of the orders and cancels in doubt and the
paid orders waiting for wallet."""

from __future__ import annotations

from sqlalchemy import and_, bindparam, select, text

from kiwishop.order import repository
from kiwishop.order.cancel_store import load_cancels
from kiwishop.order.cancellation import OPEN, Cancel
from kiwishop.order.domain import OrderError, Payment
from kiwishop.order.tables import payment_cancel_lines, payment_cancels, payment_events, payment_orders
from kiwishop.platform.db import Database
from kiwishop.platform.errors import AppError

pe, po = payment_events, payment_orders
_IN_DOUBT = text(
    "SELECT o.payment_order_status, COUNT(DISTINCT o.order_id) FROM payment_orders o"
    " WHERE o.payment_order_status IN ('EXECUTING', 'UNKNOWN', 'QUARANTINED') GROUP BY o.payment_order_status"
)
_CANCELS_IN_DOUBT = text(
    "SELECT status, COUNT(*) FROM payment_cancels WHERE status IN ('EXECUTING', 'UNKNOWN') GROUP BY status"
)
_SETTLEMENT_BACKLOG = text(
    "SELECT COUNT(*), COALESCE(SUM(republish_count > 0), 0) FROM payment_events WHERE settle_check_at IS NOT NULL"
)


# The read APIs' statements, built once.
_LINES_OF = (
    select(pe.c.member_no, po.c.payment_order_no, po.c.order_id, po.c.amount, po.c.payment_order_status,
           po.c.seller_no, po.c.product_no)
    .join(pe, pe.c.payment_event_no == po.c.payment_event_no)
    .where(po.c.order_id == bindparam("order_id"))
    .order_by(po.c.payment_order_no)
)  # fmt: skip
_PAID = and_(pe.c.member_no == bindparam("member_no"), pe.c.is_payment_done.is_(True))
_PAID_PAGE = select(pe.c.payment_event_no).where(_PAID).order_by(pe.c.payment_event_no.desc()).limit(bindparam("n"))
_PAID_PAGE_BEFORE = (
    select(pe.c.payment_event_no)
    .where(_PAID, pe.c.payment_event_no < bindparam("before"))
    .order_by(pe.c.payment_event_no.desc())
    .limit(bindparam("n"))
)
_EVENTS_NEWEST_FIRST = repository.load_query(
    pe.c.payment_event_no.in_(bindparam("numbers", expanding=True)), order_desc=True
)


async def payment_of_order(db: Database, order_id: str) -> Payment:
    """The payment's current result (any status); PEC0004 for an unknown orderId."""
    async with db.uow() as uow:  # a read: nothing is committed
        payment = await repository.load_in(uow, order_id)
    if payment is None:
        raise AppError(OrderError.ORDER_NOT_FOUND)
    return payment


async def lines_of_order(db: Database, order_id: str) -> tuple[int, list[dict[str, object]]]:
    """O5: the order's buyer (memberNo: who may read it) and its payment lines (any status); PEC0004 (404) for
    an unknown orderId, as for ``payment_of_order`` (every order has at least one line)."""
    async with db.uow() as uow:
        rows = (await uow.run(_LINES_OF, {"order_id": order_id})).all()
    if not rows:
        raise AppError(OrderError.ORDER_NOT_FOUND)
    return rows[0].member_no, [
        {
            "paymentOrderNo": r.payment_order_no,
            "orderId": r.order_id,
            "amount": r.amount,
            "status": r.payment_order_status,
            "sellerNo": r.seller_no,
            "productNo": r.product_no,
        }
        for r in rows
    ]


async def paid_events_of_member(
    db: Database, member_no: int, before: int | None, limit: int
) -> tuple[list[Payment], int | None]:
    """O6: the member's paid payment events, newest first, ``limit`` whole events after the cursor; and the
    cursor of the next page (the last paymentEventNo of this one), or None when this page is the last."""
    page = _PAID_PAGE if before is None else _PAID_PAGE_BEFORE
    async with db.uow() as uow:
        found = await uow.run(page, {"member_no": member_no, "before": before, "n": limit + 1})
        numbers = [row[0] for row in found]
        more = len(numbers) > limit
        numbers = numbers[:limit]
        if not numbers:
            return [], None
        events = repository.payments_of(await uow.run(_EVENTS_NEWEST_FIRST, {"numbers": numbers}))
    return events, (numbers[-1] if more else None)


async def event_of_member(db: Database, payment_event_no: int, member_no: int) -> Payment:
    """O7: one payment event of this member (any status); 404 when it does not exist or is someone else's."""
    async with db.engine.connect() as conn:
        payment = await repository.load_payment(conn, payment_event_no=payment_event_no)
    if payment is None or payment.member_no != member_no:
        raise AppError(OrderError.PAYMENT_EVENT_NOT_FOUND)
    return payment


async def open_cancel_lines(db: Database, order_ids: list[str]) -> dict[str, set[int]]:
    """Per order, the lines of its cancel that is not decided yet (EXECUTING / UNKNOWN); orders without one are
    absent."""
    if not order_ids:
        return {}
    pc, pcl = payment_cancels, payment_cancel_lines
    query = (
        select(pcl.c.order_id, pcl.c.payment_order_no)
        .join(pc, (pc.c.order_id == pcl.c.order_id) & (pc.c.cancel_no == pcl.c.cancel_no))
        .where(pc.c.order_id.in_(order_ids), pc.c.status.in_([status.value for status in OPEN]))
    )
    found: dict[str, set[int]] = {}
    async with db.engine.connect() as conn:
        for order_id, line_no in await conn.execute(query):
            found.setdefault(order_id, set()).add(line_no)
    return found


async def cancel_of_member(db: Database, order_id: str, cancel_no: int, member_no: int) -> Cancel | None:
    """One cancel of one of the member's orders, as stored now; None when there is none (or the order is
    someone else's)."""
    async with db.uow() as uow:  # a read: nothing is committed
        payment = await repository.load_in(uow, order_id)
        if payment is None or payment.member_no != member_no:
            return None
        return next((c for c in await load_cancels(uow, order_id) if c.cancel_no == cancel_no), None)


async def orders_in_doubt(db: Database) -> dict[str, int]:
    """How many orders are EXECUTING, UNKNOWN and QUARANTINED (states with none are absent)."""
    async with db.engine.connect() as conn:
        return {status: int(n) for status, n in await conn.execute(_IN_DOUBT)}


async def cancels_in_doubt(db: Database) -> dict[str, int]:
    """How many cancels are EXECUTING and UNKNOWN (states with none are absent)."""
    async with db.engine.connect() as conn:
        return {status: int(n) for status, n in await conn.execute(_CANCELS_IN_DOUBT)}


async def settlement_backlog(db: Database) -> tuple[int, int]:
    """Paid orders wallet has not settled yet, and how many of them had PAYMENT_CONFIRM published again."""
    async with db.engine.connect() as conn:
        waiting, overdue = (await conn.execute(_SETTLEMENT_BACKLOG)).one()
    return int(waiting), int(overdue)
