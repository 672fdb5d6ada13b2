"""Sellers nobody has heard of yet get announced (a step of ``workers.seller_announcer``): a seller row whose
``announced_at`` is NULL (the seed seller, rows written before lifecycle events existed) gets the event its
current state calls for — live → SELLER_REGISTERED, deleted → SELLER_DEREGISTERED — and ``announced_at``,
in one transaction.

Registration and compensation announce their sellers themselves; this step only catches the rest. Several
seller instances may run it at once: rows are claimed with ``FOR UPDATE SKIP LOCKED``, and a compensation
of the same seller waits for the claim (or the claim skips the seller the compensation holds), so a
seller's REGISTERED is always written before its DEREGISTERED."""

from __future__ import annotations

import logging

from kiwishop.platform.clock import utcnow
from kiwishop.platform.db import Database
from kiwishop.platform.outbox import Outbox
from kiwishop.seller.domain import DELETED_BEFORE_EVENTS, Registration, Seller
from kiwishop.seller.ports import SellerEvents, SellerTx
from kiwishop.seller.repository import sql_tx

log = logging.getLogger("kiwishop.seller.announcer")


async def announce_sellers(db: Database, outbox: Outbox, *, batch_size: int) -> int:
    """Announce one batch of never-announced sellers; returns how many were announced."""
    async with db.uow() as uow:
        announced = await announce_unannounced(sql_tx(uow, outbox), batch_size=batch_size)
        if not announced:
            return 0
        await uow.commit()
    log.info("announced %d seller(s) that had no lifecycle event yet", announced)
    return announced


async def announce_unannounced(tx: SellerTx, *, batch_size: int) -> int:
    claimed = await tx.sellers.claim_unannounced(limit=batch_size)
    if not claimed:
        return 0
    seller_nos = [seller.seller_no for seller in claimed]
    latest = await tx.registrations.latest_of(seller_nos)
    for seller in claimed:
        await _announce(tx.events, seller, latest.get(seller.seller_no))
    await tx.sellers.mark_announced(seller_nos, now=utcnow())
    return len(claimed)


async def _announce(events: SellerEvents, seller: Seller, registration: Registration | None) -> None:
    if seller.is_deleted:
        reason = (registration.last_error if registration is not None else None) or DELETED_BEFORE_EVENTS
        await events.deregistered(seller_no=seller.seller_no, seller_id=seller.seller_id, reason=reason)
    else:
        registration_id = registration.registration_id if registration is not None else None
        await events.registered(seller_no=seller.seller_no, seller_id=seller.seller_id, registration_id=registration_id)
