"""Seller's ports (``ports``) over its tables and its outbox, inside one unit of work: ``sql_tx(uow, outbox)``
is what a handler works through in production. Every transition is guarded by the state it expects."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from kiwishop.contracts.events import SELLER_DEREGISTERED, SELLER_REGISTERED, WALLET_CREATE_REQUESTED
from kiwishop.contracts.topics import SELLER
from kiwishop.platform.db import UnitOfWork
from kiwishop.platform.outbox import Outbox
from kiwishop.seller.domain import (
    Registration,
    RegistrationState,
    Seller,
    seller_deregistered,
    seller_registered,
    wallet_create_requested,
)
from kiwishop.seller.ports import SellerTx
from kiwishop.seller.queries import REGISTRATION_COLUMNS, SELLER_COLUMNS, registration_of, seller_of
from kiwishop.seller.tables import seller_registrations as regs
from kiwishop.seller.tables import sellers


def sql_tx(uow: UnitOfWork, outbox: Outbox) -> SellerTx:
    return SellerTx(SqlRegistrations(uow), SqlSellers(uow), OutboxSellerEvents(uow, outbox))


class SqlRegistrations:
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def add(self, registration: Registration, *, now: dt.datetime, due_at: dt.datetime) -> None:
        await self._uow.conn.execute(
            insert(regs).values(
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

    async def get(self, registration_id: int) -> Registration | None:
        query = select(*REGISTRATION_COLUMNS).where(regs.c.registration_id == registration_id)
        row = (await self._uow.conn.execute(query)).first()
        return None if row is None else registration_of(row)

    async def move(
        self,
        registration_id: int,
        *,
        expected: RegistrationState,
        target: RegistrationState,
        last_error: str | None,
        now: dt.datetime,
    ) -> bool:
        moved = await self._uow.conn.execute(
            update(regs)
            .where(regs.c.registration_id == registration_id, regs.c.state == expected)
            .values(state=target, last_error=last_error, version=regs.c.version + 1, updated_at=now)
        )
        return moved.rowcount == 1

    async def claim_due(self, *, now: dt.datetime, limit: int) -> list[Registration]:
        rows = await self._uow.conn.execute(
            select(*REGISTRATION_COLUMNS)
            .where(regs.c.state == RegistrationState.WALLET_REQUESTED, regs.c.next_attempt_at <= now)
            .order_by(regs.c.next_attempt_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [registration_of(row) for row in rows]

    async def ask_again(self, registration: Registration, *, now: dt.datetime, due_at: dt.datetime) -> bool:
        moved = await self._uow.conn.execute(
            update(regs)
            .where(
                regs.c.registration_id == registration.registration_id,
                regs.c.state == RegistrationState.WALLET_REQUESTED,
                regs.c.attempts == registration.attempts,
            )
            .values(
                attempts=registration.attempts + 1, next_attempt_at=due_at, version=regs.c.version + 1, updated_at=now
            )
        )
        return moved.rowcount == 1

    async def latest_of(self, seller_nos: list[int]) -> dict[int, Registration]:
        found = await self._uow.conn.execute(
            select(*REGISTRATION_COLUMNS)
            .where(regs.c.seller_no.in_(seller_nos))
            .order_by(regs.c.created_at, regs.c.registration_id)
        )
        return {row.seller_no: registration_of(row) for row in found}  # later rows win: the newest


class SqlSellers:
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def add(self, *, seller_no: int, seller_id: str, now: dt.datetime) -> bool:
        try:
            await self._uow.conn.execute(
                insert(sellers).values(
                    seller_no=seller_no,
                    seller_id=seller_id,
                    is_deleted=False,
                    created_at=now,
                    updated_at=now,
                    announced_at=now,
                )
            )
        except IntegrityError:  # the live sellerId is taken (unique key on active_seller_id)
            return False
        return True

    async def delete(self, seller_no: int, *, now: dt.datetime) -> bool:
        deleted = await self._uow.conn.execute(
            update(sellers)
            .where(sellers.c.seller_no == seller_no, sellers.c.is_deleted.is_(False))
            .values(is_deleted=True, updated_at=now, announced_at=now)
        )
        return deleted.rowcount == 1

    async def claim_unannounced(self, *, limit: int) -> list[Seller]:
        rows = await self._uow.conn.execute(
            select(*SELLER_COLUMNS)
            .where(sellers.c.announced_at.is_(None))
            .order_by(sellers.c.seller_no)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [seller_of(row) for row in rows]

    async def mark_announced(self, seller_nos: list[int], *, now: dt.datetime) -> None:
        await self._uow.conn.execute(
            update(sellers).where(sellers.c.seller_no.in_(seller_nos)).values(announced_at=now)
        )


class OutboxSellerEvents:
    def __init__(self, uow: UnitOfWork, outbox: Outbox) -> None:
        self._uow = uow
        self._outbox = outbox

    async def wallet_requested(self, *, registration_id: int, seller_no: int, seller_id: str, attempt: int) -> None:
        await self._outbox.add(
            self._uow,
            topic=SELLER,
            key=str(seller_no),
            event_type=WALLET_CREATE_REQUESTED.name,
            payload=dict(wallet_create_requested(registration_id, seller_no, seller_id)),
            idempotency_key=f"wallet-create:{registration_id}:{attempt}",
        )

    async def registered(self, *, seller_no: int, seller_id: str, registration_id: int | None) -> None:
        await self._outbox.add(
            self._uow,
            topic=SELLER,
            key=str(seller_no),
            event_type=SELLER_REGISTERED.name,
            payload=dict(seller_registered(seller_no, seller_id, registration_id)),
        )

    async def deregistered(self, *, seller_no: int, seller_id: str, reason: str) -> None:
        await self._outbox.add(
            self._uow,
            topic=SELLER,
            key=str(seller_no),
            event_type=SELLER_DEREGISTERED.name,
            payload=dict(seller_deregistered(seller_no, seller_id, reason)),
        )
