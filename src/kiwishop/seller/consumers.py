"""Replies from wallet on kiwi-shop-wallet move the registration saga (idempotent by event id)."""

from __future__ import annotations

from kiwishop.platform.consumer import Handler, PermanentError
from kiwishop.platform.db import Database, UnitOfWork
from kiwishop.platform.envelope import Envelope
from kiwishop.platform.inbox import idempotent
from kiwishop.platform.outbox import Outbox
from kiwishop.seller.domain import InvalidMessage, parse_wallet_reply
from kiwishop.seller.handlers import apply_wallet_reply

REPLY_CONSUMER = "seller-registration"


async def on_wallet_reply(uow: UnitOfWork, outbox: Outbox, envelope: Envelope) -> None:
    try:
        reply = parse_wallet_reply(envelope.type, envelope.payload)
        await apply_wallet_reply(uow, outbox, reply)
    except InvalidMessage as exc:
        raise PermanentError(str(exc)) from exc


def wallet_reply_handler(db: Database, outbox: Outbox) -> Handler:
    """A compensating reply writes SELLER_DEREGISTERED through ``outbox`` in the reply's transaction."""

    async def effect(uow: UnitOfWork, envelope: Envelope) -> None:
        await on_wallet_reply(uow, outbox, envelope)

    return idempotent(db, REPLY_CONSUMER, effect)
