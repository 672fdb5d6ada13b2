"""Sellers nobody has heard of yet get announced: a seller row whose ``announced_at`` is NULL (the seed
seller, rows written before lifecycle events existed) gets the event its current state calls for —
live → SELLER_REGISTERED, deleted → SELLER_DEREGISTERED — and ``announced_at``, in one transaction.

Registration and compensation announce their sellers themselves; this job only catches the rest. Several
seller instances may run it at once: rows are claimed with ``FOR UPDATE SKIP LOCKED``, and a compensation
of the same seller waits for the claim (or the claim skips the seller the compensation holds), so a
seller's REGISTERED is always written before its DEREGISTERED."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select, update

from kiwishop.platform.clock import utcnow
from kiwishop.platform.db import Database, UnitOfWork
from kiwishop.platform.outbox import Outbox
from kiwishop.platform.periodic import Periodic
from kiwishop.seller.domain import DELETED_BEFORE_EVENTS
from kiwishop.seller.handlers import announce_deregistered, announce_registered
from kiwishop.seller.tables import seller_registrations as regs
from kiwishop.seller.tables import sellers

log = logging.getLogger("kiwishop.seller.announcer")


class SellerAnnouncer:
    def __init__(self, db: Database, outbox: Outbox, *, interval_s: float = 5.0, batch_size: int = 100) -> None:
        self._db = db
        self._outbox = outbox
        self._batch = batch_size
        self._worker = Periodic("seller-announcer", self._step, interval_s)

    async def start(self) -> None:
        await self._worker.start()

    async def stop(self) -> None:
        await self._worker.stop()

    async def _step(self) -> bool:
        return await self.announce_once() >= self._batch

    async def announce_once(self) -> int:
        """Announce one batch of never-announced sellers; returns how many were announced."""
        async with self._db.uow() as uow:
            rows = (
                await uow.conn.execute(
                    select(sellers.c.seller_no, sellers.c.seller_id, sellers.c.is_deleted)
                    .where(sellers.c.announced_at.is_(None))
                    .order_by(sellers.c.seller_no)
                    .limit(self._batch)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not rows:
                return 0
            latest = await _latest_registrations(uow, [row.seller_no for row in rows])
            for row in rows:
                await self._announce(uow, row, latest.get(row.seller_no))
            await uow.conn.execute(
                update(sellers)
                .where(sellers.c.seller_no.in_([row.seller_no for row in rows]))
                .values(announced_at=utcnow())
            )
            await uow.commit()
        log.info("announced %d seller(s) that had no lifecycle event yet", len(rows))
        return len(rows)

    async def _announce(self, uow: UnitOfWork, seller: Any, registration: Any) -> None:
        if seller.is_deleted:
            reason = (registration.last_error if registration is not None else None) or DELETED_BEFORE_EVENTS
            await announce_deregistered(
                uow, self._outbox, seller_no=seller.seller_no, seller_id=seller.seller_id, reason=reason
            )
        else:
            registration_id = registration.registration_id if registration is not None else None
            await announce_registered(
                uow,
                self._outbox,
                seller_no=seller.seller_no,
                seller_id=seller.seller_id,
                registration_id=registration_id,
            )


async def _latest_registrations(uow: UnitOfWork, seller_nos: list[int]) -> dict[int, Any]:
    """seller number → its newest registration row (registration_id, last_error); absent when it has none."""
    found = await uow.conn.execute(
        select(regs.c.seller_no, regs.c.registration_id, regs.c.last_error)
        .where(regs.c.seller_no.in_(seller_nos))
        .order_by(regs.c.created_at, regs.c.registration_id)
    )
    return {row.seller_no: row for row in found}  # later rows win: the newest
