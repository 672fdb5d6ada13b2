"""Like's writes (like, unlike; the reads are in ``queries``); each owns its unit of work and is re-run
whole on a deadlock (``retry_on_conflict``).

Like: insert the (product, member) row — a duplicate-key error means "already liked": nothing else happens
(C3). Otherwise an atomic upsert of the count row (``like_count + 1``, ``version + 1``; a first like
creates it with 1 / 0, so concurrent first likes never collide, C4/C5), a read of the totals (the row is
locked by this transaction), and the outbox row — all in one transaction.
Unlike: lock the like row (``FOR UPDATE``); absent → no-op; else delete it and decrement the count,
never below zero (C10). Both take the like row before the count row, so they cannot deadlock each other.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.exc import IntegrityError

from kiwishop.catalog_like.domain import LikeChange
from kiwishop.contracts.events import PRODUCT_LIKED, PRODUCT_UNLIKED
from kiwishop.platform.clock import utcnow
from kiwishop.platform.db import Database, UnitOfWork, retry_on_conflict
from kiwishop.platform.ids import Snowflake
from kiwishop.platform.outbox import Outbox


async def like(
    db: Database,
    ids: Snowflake,
    outbox: Outbox,
    product_no: int,
    member_no: int,
    *,
    attempts: int = 10,
    topic: str,
) -> LikeChange | None:
    """Like the product; None when the member already liked it (nothing written, no event)."""
    return await retry_on_conflict(lambda: _like_once(db, ids, outbox, product_no, member_no, topic), attempts=attempts)


async def unlike(
    db: Database, outbox: Outbox, product_no: int, member_no: int, *, topic: str, attempts: int
) -> LikeChange | None:
    """Remove the like; None when there was none (nothing written, no event)."""
    return await retry_on_conflict(lambda: _unlike_once(db, outbox, product_no, member_no, topic), attempts=attempts)


# Plain SQL through the driver (no statement building or compiling per request): likes are the hot path.
INSERT_LIKE = (
    "INSERT INTO product_likes (product_like_no, product_no, member_no, created_at, updated_at)"
    " VALUES (%s, %s, %s, %s, %s)"
)
LOCK_LIKE = "SELECT product_like_no, created_at FROM product_likes WHERE product_no = %s AND member_no = %s FOR UPDATE"
DELETE_LIKE = "DELETE FROM product_likes WHERE product_like_no = %s"
CHANGE_COUNT = (
    "INSERT INTO product_like_counts (product_no, like_count, version, created_at, updated_at)"
    " VALUES (%s, %s, 0, %s, %s)"
    " ON DUPLICATE KEY UPDATE like_count = GREATEST(like_count + %s, 0), version = version + 1, updated_at = %s"
)
READ_COUNT = "SELECT like_count, version FROM product_like_counts WHERE product_no = %s"


async def _like_once(
    db: Database, ids: Snowflake, outbox: Outbox, product_no: int, member_no: int, topic: str
) -> LikeChange | None:
    like_no, now = ids.next_id(), utcnow()
    async with db.uow() as uow:
        try:
            await uow.conn.exec_driver_sql(INSERT_LIKE, (like_no, product_no, member_no, now, now))
        except IntegrityError as exc:
            if is_duplicate_key(exc):
                return None  # already liked (C3); the failed statement left the transaction usable
            raise
        count, version = await _change_count(uow, product_no, +1, now)
        change = LikeChange(
            event_type=PRODUCT_LIKED.name,
            product_like_no=like_no,
            product_no=product_no,
            member_no=member_no,
            created_at=now,
            like_count=count,
            version=version,
        )
        await _publish(uow, outbox, change, topic)
        await uow.commit()
    return change


async def _unlike_once(db: Database, outbox: Outbox, product_no: int, member_no: int, topic: str) -> LikeChange | None:
    now = utcnow()
    async with db.uow() as uow:
        row: Any = (await uow.conn.exec_driver_sql(LOCK_LIKE, (product_no, member_no))).first()
        if row is None:
            return None
        like_no = int(row.product_like_no)
        await uow.conn.exec_driver_sql(DELETE_LIKE, (like_no,))
        count, version = await _change_count(uow, product_no, -1, now)
        change = LikeChange(
            event_type=PRODUCT_UNLIKED.name,
            product_like_no=like_no,
            product_no=product_no,
            member_no=member_no,
            created_at=row.created_at,
            like_count=count,
            version=version,
        )
        await _publish(uow, outbox, change, topic)
        await uow.commit()
    return change


async def _change_count(uow: UnitOfWork, product_no: int, delta: int, now: dt.datetime) -> tuple[int, int]:
    """Add ``delta`` (never below zero) and bump the version in one statement; returns (count, version)."""
    await uow.conn.exec_driver_sql(CHANGE_COUNT, (product_no, max(delta, 0), now, now, delta, now))
    row: Any = (await uow.conn.exec_driver_sql(READ_COUNT, (product_no,))).one()
    return int(row.like_count), int(row.version)


async def _publish(uow: UnitOfWork, outbox: Outbox, change: LikeChange, topic: str) -> None:
    await outbox.add(
        uow,
        topic=topic,
        key=str(change.product_no),
        event_type=change.event_type,
        payload=dict(change.payload()),
        idempotency_key=change.idempotency_key,
    )


def is_duplicate_key(exc: IntegrityError) -> bool:
    return bool(exc.orig is not None and exc.orig.args and exc.orig.args[0] == 1062)
