"""Registration: the seller and its saga (HTTP), wallet's reply moving the saga, and the guarded transition
both the reply and the sweep (``sweep``) use — a compensation soft-deletes the seller and announces
SELLER_DEREGISTERED, once."""

from __future__ import annotations

import datetime as dt
import logging

from kiwishop.platform.clock import utcnow
from kiwishop.platform.consumer import PermanentError
from kiwishop.platform.db import Database, UnitOfWork
from kiwishop.platform.envelope import Envelope
from kiwishop.platform.errors import AppError
from kiwishop.platform.ids import Snowflake
from kiwishop.platform.outbox import Outbox
from kiwishop.seller.domain import (
    InvalidMessage,
    Registration,
    RegistrationState,
    SellerError,
    WalletReply,
    parse_wallet_reply,
    state_after_reply,
)
from kiwishop.seller.ports import SellerTx
from kiwishop.seller.repository import sql_tx

log = logging.getLogger("kiwishop.seller")


async def register_seller(
    db: Database, outbox: Outbox, ids: Snowflake, *, seller_id: str, timeout_s: float
) -> Registration:
    """One transaction: the seller, its registration saga, SELLER_REGISTERED and the wallet request (outbox)."""
    async with db.uow() as uow:
        registration = await start_registration(sql_tx(uow, outbox), ids, seller_id=seller_id, timeout_s=timeout_s)
        await uow.commit()
    log.info("seller %s registered as %d, saga %d", seller_id, registration.seller_no, registration.registration_id)
    return registration


async def start_registration(tx: SellerTx, ids: Snowflake, *, seller_id: str, timeout_s: float) -> Registration:
    """The live seller and its saga, SLR0002 when a live seller has the sellerId (nothing written)."""
    registration = Registration(
        registration_id=ids.next_id(),
        seller_id=seller_id,
        seller_no=ids.next_id(),
        state=RegistrationState.WALLET_REQUESTED,
        attempts=1,
        last_error=None,
    )
    now = utcnow()
    if not await tx.sellers.add(seller_no=registration.seller_no, seller_id=seller_id, now=now):
        raise AppError(SellerError.DUPLICATE_SELLER_ID, sellerId=seller_id)
    await tx.registrations.add(registration, now=now, due_at=now + dt.timedelta(seconds=timeout_s))
    await tx.events.registered(
        seller_no=registration.seller_no, seller_id=seller_id, registration_id=registration.registration_id
    )
    await tx.events.wallet_requested(
        registration_id=registration.registration_id, seller_no=registration.seller_no, seller_id=seller_id, attempt=1
    )
    return registration


async def on_wallet_reply(uow: UnitOfWork, outbox: Outbox, envelope: Envelope) -> None:
    """WALLET_CREATED / WALLET_CREATION_FAILED, in the inbox's transaction; a reply no retry can fix (malformed,
    or naming a saga that is not its seller's) is parked (PermanentError)."""
    try:
        reply = parse_wallet_reply(envelope.type, envelope.payload)
        await apply_wallet_reply(sql_tx(uow, outbox), reply)
    except InvalidMessage as exc:
        raise PermanentError(str(exc)) from exc


async def apply_wallet_reply(tx: SellerTx, reply: WalletReply) -> bool:
    """Move the saga a reply names: success → COMPLETED; failure → seller soft-deleted, COMPENSATED. Only a
    WALLET_REQUESTED saga moves: a duplicate or late reply changes nothing (False)."""
    registration = await tx.registrations.get(reply.saga_id)
    if registration is None:
        raise InvalidMessage(f"no registration {reply.saga_id}")
    if registration.seller_no != reply.seller_no:
        raise InvalidMessage(
            f"registration {reply.saga_id} is for seller {registration.seller_no}, not {reply.seller_no}"
        )
    target = state_after_reply(registration.state, reply.success)
    moved = target is not None and await move_registration(tx, registration, target, last_error=reply.reason)
    if moved:
        log.info("registration %d %s", reply.saga_id, target)
    else:
        log.info(
            "registration %d is %s; reply (success=%s) changes nothing",
            reply.saga_id,
            registration.state,
            reply.success,
        )
    return moved


async def move_registration(
    tx: SellerTx, registration: Registration, target: RegistrationState, *, last_error: str | None
) -> bool:
    """The guarded transition out of WALLET_REQUESTED; a compensation also soft-deletes the seller and
    announces SELLER_DEREGISTERED — only a live seller's end is news, so once.

    False when the registration was no longer WALLET_REQUESTED (a duplicate or late message): nothing changed.
    """
    now = utcnow()
    moved = await tx.registrations.move(
        registration.registration_id,
        expected=RegistrationState.WALLET_REQUESTED,
        target=target,
        last_error=last_error,
        now=now,
    )
    if not moved:
        return False
    if target is RegistrationState.COMPENSATED and await tx.sellers.delete(registration.seller_no, now=now):
        await tx.events.deregistered(
            seller_no=registration.seller_no,
            seller_id=registration.seller_id,
            reason=last_error or "registration compensated",
        )
    return True
