"""Wallet's settlement result: WALLET_SETTLED sets the paid order's ``is_wallet_done`` and ends its settlement
checks (fixes G21). It runs in the consumer's unit of work, once per event id (``order/consumers.py``)."""

from __future__ import annotations

from kiwishop.order.ports import WalletSettlements
from kiwishop.platform.consumer import PermanentError
from kiwishop.platform.envelope import Envelope


async def record_wallet_settled(payments: WalletSettlements, envelope: Envelope) -> None:
    order_id = envelope.payload.get("orderId")
    if not isinstance(order_id, str) or not order_id:
        raise PermanentError("WALLET_SETTLED without an orderId")
    if not await payments.mark_wallet_settled(order_id):
        raise PermanentError(f"WALLET_SETTLED for {order_id}, which is not a paid order here")
