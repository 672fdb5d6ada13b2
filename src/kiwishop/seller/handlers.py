"""Seller use cases; each owns its unit of work (the reply handler runs inside the inbox's)."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from kiwishop.contracts.events import SELLER_DEREGISTERED, SELLER_REGISTERED, WALLET_CREATE_REQUESTED
from kiwishop.contracts.topics import SELLER
from kiwishop.platform.clock import utcnow
from kiwishop.platform.db import Database, UnitOfWork
from kiwishop.platform.errors import AppError
from kiwishop.platform.ids import Snowflake
from kiwishop.platform.outbox import Outbox
from kiwishop.seller.domain import (
    InvalidMessage,
    Registration,
    RegistrationState,
    Seller,
    SellerError,
    WalletReply,
    seller_deregistered,
    seller_registered,
    state_after_reply,
    wallet_create_requested,
)
from kiwishop.seller.tables import seller_registrations, sellers

log = logging.getLogger("kiwishop.seller")

_REGISTRATION_COLUMNS = (
    seller_registrations.c.registration_id,
    seller_registrations.c.seller_id,
    seller_registrations.c.seller_no,
    seller_registrations.c.state,
    seller_registrations.c.attempts,
    seller_registrations.c.last_error,
)


async def request_wallet(
    uow: UnitOfWork, outbox: Outbox, *, registration_id: int, seller_no: int, seller_id: str, attempt: int
) -> None:
    """The wallet creation command, sent through the outbox (the same saga id on every attempt)."""
    await outbox.add(
        uow,
        topic=SELLER,
        key=str(seller_no),
        event_type=WALLET_CREATE_REQUESTED.name,
        payload=dict(wallet_create_requested(registration_id, seller_no, seller_id)),
        idempotency_key=f"wallet-create:{registration_id}:{attempt}",
    )


async def announce_registered(
    uow: UnitOfWork, outbox: Outbox, *, seller_no: int, seller_id: str, registration_id: int | None
) -> None:
    """SELLER_REGISTERED through the outbox; the caller sets ``sellers.announced_at`` in the same transaction."""
    await outbox.add(
        uow,
        topic=SELLER,
        key=str(seller_no),
        event_type=SELLER_REGISTERED.name,
        payload=dict(seller_registered(seller_no, seller_id, registration_id)),
    )


async def announce_deregistered(
    uow: UnitOfWork, outbox: Outbox, *, seller_no: int, seller_id: str, reason: str
) -> None:
    """SELLER_DEREGISTERED through the outbox; the caller sets ``sellers.announced_at`` in the same transaction."""
    await outbox.add(
        uow,
        topic=SELLER,
        key=str(seller_no),
        event_type=SELLER_DEREGISTERED.name,
        payload=dict(seller_deregistered(seller_no, seller_id, reason)),
    )


async def register_seller(
    db: Database, outbox: Outbox, ids: Snowflake, *, seller_id: str, timeout_s: float
) -> Registration:
    """One transaction: the seller, its registration saga, SELLER_REGISTERED and the wallet request (outbox)."""
    registration = Registration(
        registration_id=ids.next_id(),
        seller_id=seller_id,
        seller_no=ids.next_id(),
        state=RegistrationState.WALLET_REQUESTED,
        attempts=1,
        last_error=None,
    )
    async with db.uow() as uow:
        now = utcnow()
        await _insert_seller_and_saga(uow, registration, now, now + dt.timedelta(seconds=timeout_s))
        await announce_registered(
            uow,
            outbox,
            seller_no=registration.seller_no,
            seller_id=seller_id,
            registration_id=registration.registration_id,
        )
        await request_wallet(
            uow,
            outbox,
            registration_id=registration.registration_id,
            seller_no=registration.seller_no,
            seller_id=seller_id,
            attempt=1,
        )
        await uow.commit()
    log.info("seller %s registered as %d, saga %d", seller_id, registration.seller_no, registration.registration_id)
    return registration


async def _insert_seller_and_saga(
    uow: UnitOfWork, registration: Registration, now: dt.datetime, due_at: dt.datetime
) -> None:
    try:
        await uow.conn.execute(
            insert(sellers).values(
                seller_no=registration.seller_no,
                seller_id=registration.seller_id,
                is_deleted=False,
                created_at=now,
                updated_at=now,
                announced_at=now,
            )
        )
    except IntegrityError as exc:  # the live sellerId is taken (unique key on active_seller_id)
        raise AppError(SellerError.DUPLICATE_SELLER_ID, sellerId=registration.seller_id) from exc
    await uow.conn.execute(
        insert(seller_registrations).values(
            registration_id=registration.registration_id,
            seller_no=registration.seller_no,
            seller_id=registration.seller_id,
            state=registration.state,
            attempts=registration.attempts,
            next_attempt_at=due_at,
            version=0,
            created_at=now,
            updated_at=now,
        )
    )


async def get_registration(db: Database, registration_id: int) -> Registration:
    async with db.engine.connect() as conn:
        row = (
            await conn.execute(
                select(*_REGISTRATION_COLUMNS).where(seller_registrations.c.registration_id == registration_id)
            )
        ).first()
    if row is None:
        raise AppError(SellerError.REGISTRATION_NOT_FOUND)
    return _registration(row)


def _registration(row: Any) -> Registration:
    return Registration(
        registration_id=row.registration_id,
        seller_id=row.seller_id,
        seller_no=row.seller_no,
        state=row.state,
        attempts=row.attempts,
        last_error=row.last_error,
    )


async def get_seller(db: Database, seller_no: int) -> Seller:
    async with db.engine.connect() as conn:
        row = (
            await conn.execute(
                select(sellers.c.seller_no, sellers.c.seller_id, sellers.c.is_deleted, sellers.c.created_at).where(
                    sellers.c.seller_no == seller_no
                )
            )
        ).first()
    if row is None:
        raise AppError(SellerError.SELLER_NOT_FOUND)
    return Seller(
        seller_no=row.seller_no, seller_id=row.seller_id, is_deleted=bool(row.is_deleted), created_at=row.created_at
    )


async def move_registration(
    uow: UnitOfWork,
    outbox: Outbox,
    *,
    registration_id: int,
    expected: RegistrationState,
    target: RegistrationState,
    seller_no: int,
    seller_id: str,
    last_error: str | None = None,
) -> bool:
    """The guarded transition: only from ``expected``; a compensation also soft-deletes the seller and
    announces SELLER_DEREGISTERED, in the caller's transaction.

    False when the registration was no longer in ``expected`` (a duplicate or late message): nothing changed.
    """
    now = utcnow()
    moved = await uow.conn.execute(
        update(seller_registrations)
        .where(seller_registrations.c.registration_id == registration_id, seller_registrations.c.state == expected)
        .values(state=target, last_error=last_error, version=seller_registrations.c.version + 1, updated_at=now)
    )
    if moved.rowcount != 1:
        return False
    if target is RegistrationState.COMPENSATED:
        deleted = await uow.conn.execute(
            update(sellers)
            .where(sellers.c.seller_no == seller_no, sellers.c.is_deleted.is_(False))
            .values(is_deleted=True, updated_at=now, announced_at=now)
        )
        if deleted.rowcount == 1:  # only a live seller's end is news
            reason = last_error or "registration compensated"
            await announce_deregistered(uow, outbox, seller_no=seller_no, seller_id=seller_id, reason=reason)
    return True


async def apply_wallet_reply(uow: UnitOfWork, outbox: Outbox, reply: WalletReply) -> bool:
    """Move the saga a reply names: success → COMPLETED; failure → seller soft-deleted, COMPENSATED."""
    row = (
        await uow.conn.execute(
            select(
                seller_registrations.c.state, seller_registrations.c.seller_no, seller_registrations.c.seller_id
            ).where(seller_registrations.c.registration_id == reply.saga_id)
        )
    ).first()
    if row is None:
        raise InvalidMessage(f"no registration {reply.saga_id}")
    if row.seller_no != reply.seller_no:
        raise InvalidMessage(f"registration {reply.saga_id} is for seller {row.seller_no}, not {reply.seller_no}")
    target = state_after_reply(row.state, reply.success)
    moved = target is not None and await move_registration(
        uow,
        outbox,
        registration_id=reply.saga_id,
        expected=RegistrationState.WALLET_REQUESTED,
        target=target,
        seller_no=reply.seller_no,
        seller_id=row.seller_id,
        last_error=reply.reason,
    )
    if moved:
        log.info("registration %d %s", reply.saga_id, target)
    else:
        log.info("registration %d is %s; reply (success=%s) changes nothing", reply.saga_id, row.state, reply.success)
    return moved
