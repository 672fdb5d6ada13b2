"""Order read APIs (O5, O6, O7) over the order schema; cursor pages of whole payment events."""

from __future__ import annotations

from sqlalchemy import and_, select

from kiwishop.order import repository
from kiwishop.order.domain import OrderError, Payment
from kiwishop.order.tables import payment_events, payment_orders
from kiwishop.platform.db import Database
from kiwishop.platform.errors import AppError

pe, po = payment_events, payment_orders


async def lines_of_order(db: Database, order_id: str) -> list[dict[str, object]]:
    """O5: the payment lines of one order (any status); an unknown orderId has none."""
    query = (
        select(po.c.payment_order_no, po.c.order_id, po.c.amount, po.c.payment_order_status, po.c.seller_no,
               po.c.product_no)
        .where(po.c.order_id == order_id)
        .order_by(po.c.payment_order_no)
    )  # fmt: skip
    async with db.engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    return [
        {
            "paymentOrderNo": r.payment_order_no,
            "orderId": r.order_id,
            "amount": r.amount,
            "status": r.payment_order_status,
            "sellerNo": r.seller_no,
            "sellerId": None,
            "productNo": r.product_no,
        }
        for r in rows
    ]


async def paid_events_of_member(db: Database, member_no: int, before: int | None, limit: int) -> list[Payment]:
    """O6: the member's paid payment events, newest first, ``limit`` whole events after the cursor."""
    condition = and_(pe.c.member_no == member_no, pe.c.is_payment_done.is_(True))
    if before is not None:
        condition = and_(condition, pe.c.payment_event_no < before)
    page = select(pe.c.payment_event_no).where(condition).order_by(pe.c.payment_event_no.desc()).limit(limit)
    async with db.engine.connect() as conn:
        numbers = list((await conn.execute(page)).scalars())
        if not numbers:
            return []
        return await repository.load_payments(conn, pe.c.payment_event_no.in_(numbers), order_desc=True)


async def event_of_member(db: Database, payment_event_no: int, member_no: int) -> Payment:
    """O7: one payment event of this member (any status); 404 when it does not exist or is someone else's."""
    async with db.engine.connect() as conn:
        payment = await repository.load_payment(conn, payment_event_no=payment_event_no)
    if payment is None or payment.member_no != member_no:
        raise AppError(OrderError.PAYMENT_EVENT_NOT_FOUND)
    return payment
