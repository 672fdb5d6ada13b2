"""Replies from wallet on kiwi-shop-wallet → ``handlers.on_wallet_reply`` (idempotent by event id)."""

from __future__ import annotations

from kiwishop.platform.consumer import Handler
from kiwishop.platform.db import Database, UnitOfWork
from kiwishop.platform.envelope import Envelope
from kiwishop.platform.inbox import idempotent
from kiwishop.platform.outbox import Outbox
from kiwishop.seller.handlers import on_wallet_reply

REPLY_CONSUMER = "seller-registration"


def wallet_reply_handler(db: Database, outbox: Outbox) -> Handler:
    """A compensating reply writes SELLER_DEREGISTERED through ``outbox`` in the reply's transaction."""

    async def effect(uow: UnitOfWork, envelope: Envelope) -> None:
        await on_wallet_reply(uow, outbox, envelope)

    return idempotent(db, REPLY_CONSUMER, effect)
