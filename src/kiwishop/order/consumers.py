"""Events order consumes: the wallet's settlement result sets ``is_wallet_done`` (fixes G21)."""

from __future__ import annotations

from sqlalchemy import update

from kiwishop.order.tables import payment_events
from kiwishop.platform.consumer import PermanentError
from kiwishop.platform.db import UnitOfWork
from kiwishop.platform.envelope import Envelope


async def on_wallet_settled(uow: UnitOfWork, envelope: Envelope) -> None:
    order_id = envelope.payload.get("orderId")
    if not isinstance(order_id, str) or not order_id:
        raise PermanentError("WALLET_SETTLED without an orderId")
    result = await uow.conn.execute(
        update(payment_events)
        .where(payment_events.c.order_id == order_id, payment_events.c.is_payment_done.is_(True))
        .values(is_wallet_done=True, settle_check_at=None)
    )
    if result.rowcount == 0:
        raise PermanentError(f"WALLET_SETTLED for {order_id}, which is not a paid order here")
