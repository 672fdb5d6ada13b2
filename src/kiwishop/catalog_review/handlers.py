"""Review use cases; each owns its unit of work and is re-run whole on a deadlock (``retry_on_conflict``).

Create: insert the review, atomically upsert the product's totals (count + 1, star sum + stars,
version + 1; the first review creates the row with version 0, so concurrent first reviews never collide),
read the totals back (the row is locked by this transaction), write the outbox row — one transaction.
Delete: lock the review row; unknown → 404; already deleted → no-op (no count change, no event, C6);
else mark it deleted, subtract it from the totals (never below zero) and emit the event with
``isDeleted: true``. Both take the review row before the count row.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from sqlalchemy import false, func, insert, select, update
from sqlalchemy.dialects.mysql import insert as mysql_insert

from kiwishop.catalog_review.domain import Review, ReviewChange, ReviewError, StarRating, Totals
from kiwishop.catalog_review.tables import product_review_counts, product_reviews
from kiwishop.contracts.events import PRODUCT_CREATED_REVIEW, PRODUCT_DELETED_REVIEW
from kiwishop.platform.clock import utcnow
from kiwishop.platform.db import Database, UnitOfWork, retry_on_conflict
from kiwishop.platform.errors import AppError
from kiwishop.platform.ids import Snowflake
from kiwishop.platform.outbox import Outbox

_REVIEW_COLUMNS = (
    product_reviews.c.product_review_no,
    product_reviews.c.product_no,
    product_reviews.c.member_no,
    product_reviews.c.title,
    product_reviews.c.content,
    product_reviews.c.star_rating,
    product_reviews.c.is_deleted,
    product_reviews.c.created_at,
)


@dataclasses.dataclass(frozen=True)
class NewReview:
    product_no: int
    member_no: int
    title: str
    content: str
    star_rating: StarRating


async def create_review(
    db: Database, ids: Snowflake, outbox: Outbox, new: NewReview, *, topic: str, attempts: int = 10
) -> Review:
    return await retry_on_conflict(lambda: _create_once(db, ids, outbox, new, topic), attempts=attempts)


async def delete_review(
    db: Database, outbox: Outbox, review_no: int, *, topic: str, attempts: int
) -> ReviewChange | None:
    """Soft-delete the review; None when it already was deleted (nothing written, no event)."""
    return await retry_on_conflict(lambda: _delete_once(db, outbox, review_no, topic), attempts=attempts)


async def _create_once(db: Database, ids: Snowflake, outbox: Outbox, new: NewReview, topic: str) -> Review:
    now = utcnow()
    review = Review(
        product_review_no=ids.next_id(),
        product_no=new.product_no,
        member_no=new.member_no,
        title=new.title,
        content=new.content,
        star_rating=new.star_rating,
        is_deleted=False,
        created_at=now,
    )
    async with db.uow() as uow:
        await uow.conn.execute(
            insert(product_reviews).values(
                product_review_no=review.product_review_no,
                product_no=review.product_no,
                member_no=review.member_no,
                title=review.title,
                content=review.content,
                star_rating=int(review.star_rating),
                is_deleted=False,
                created_at=now,
                updated_at=now,
            )
        )
        totals = await _change_totals(uow, review.product_no, +1, int(review.star_rating), now)
        await _publish(uow, outbox, ReviewChange(PRODUCT_CREATED_REVIEW.name, review, totals), topic)
        await uow.commit()
    return review


async def _delete_once(db: Database, outbox: Outbox, review_no: int, topic: str) -> ReviewChange | None:
    now = utcnow()
    async with db.uow() as uow:
        row = (
            await uow.conn.execute(
                select(*_REVIEW_COLUMNS).where(product_reviews.c.product_review_no == review_no).with_for_update()
            )
        ).first()
        if row is None:
            raise AppError(ReviewError.REVIEW_NOT_FOUND)
        review = _review(row)
        if review.is_deleted:
            return None
        await uow.conn.execute(
            update(product_reviews)
            .where(product_reviews.c.product_review_no == review_no)
            .values(is_deleted=True, updated_at=now)
        )
        totals = await _change_totals(uow, review.product_no, -1, -int(review.star_rating), now)
        change = ReviewChange(PRODUCT_DELETED_REVIEW.name, dataclasses.replace(review, is_deleted=True), totals)
        await _publish(uow, outbox, change, topic)
        await uow.commit()
    return change


async def _change_totals(uow: UnitOfWork, product_no: int, count: int, stars: int, now: dt.datetime) -> Totals:
    """Add to the totals (never below zero) and bump the version in one statement; return the new totals."""
    t = product_review_counts
    upsert = mysql_insert(t).values(
        product_no=product_no,
        review_count=max(count, 0),
        review_star_rating_sum=max(stars, 0),
        version=0,
        created_at=now,
        updated_at=now,
    )
    await uow.conn.execute(
        upsert.on_duplicate_key_update(
            review_count=func.greatest(t.c.review_count + count, 0),
            review_star_rating_sum=func.greatest(t.c.review_star_rating_sum + stars, 0),
            version=t.c.version + 1,
            updated_at=now,
        )
    )
    row = (
        await uow.conn.execute(
            select(t.c.review_count, t.c.review_star_rating_sum, t.c.version).where(t.c.product_no == product_no)
        )
    ).one()
    return _totals(row)


async def _publish(uow: UnitOfWork, outbox: Outbox, change: ReviewChange, topic: str) -> None:
    await outbox.add(
        uow,
        topic=topic,
        key=str(change.review.product_no),
        event_type=change.event_type,
        payload=dict(change.payload()),
        idempotency_key=change.idempotency_key,
    )


def _totals(row: Any) -> Totals:
    return Totals(
        review_count=int(row.review_count),
        star_rating_sum=int(row.review_star_rating_sum),
        version=int(row.version),
    )


def _review(row: Any) -> Review:
    r = row._mapping
    return Review(
        product_review_no=int(r["product_review_no"]),
        product_no=int(r["product_no"]),
        member_no=int(r["member_no"]),
        title=r["title"],
        content=r["content"],
        star_rating=StarRating(int(r["star_rating"])),
        is_deleted=bool(r["is_deleted"]),
        created_at=r["created_at"],
    )


async def list_reviews(
    db: Database, product_no: int, before: int | None, limit: int
) -> tuple[list[Review], int | None]:
    """One page of the product's reviews, newest first (ids are time-ordered); the next page's cursor or None."""
    query = select(*_REVIEW_COLUMNS).where(
        product_reviews.c.product_no == product_no, product_reviews.c.is_deleted == false()
    )
    if before is not None:
        query = query.where(product_reviews.c.product_review_no < before)
    query = query.order_by(product_reviews.c.product_review_no.desc()).limit(limit + 1)
    async with db.engine.connect() as conn:
        reviews = [_review(row) for row in await conn.execute(query)]
    if len(reviews) > limit:
        return reviews[:limit], reviews[limit - 1].product_review_no
    return reviews, None


async def totals(db: Database, product_no: int) -> Totals:
    t = product_review_counts
    async with db.engine.connect() as conn:
        row = (
            await conn.execute(
                select(t.c.review_count, t.c.review_star_rating_sum, t.c.version).where(t.c.product_no == product_no)
            )
        ).first()
    if row is None:
        return Totals(review_count=0, star_rating_sum=0, version=-1)
    return _totals(row)
