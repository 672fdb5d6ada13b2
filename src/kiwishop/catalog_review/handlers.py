"""Review's writes (create, delete; the reads are in ``queries``); each owns its unit of work and is re-run
whole on a deadlock (``retry_on_conflict``).

Create: insert the review, atomically upsert the product's totals (count + 1, star sum + stars,
version + 1; the first review creates the row with version 0, so concurrent first reviews never collide),
read the totals back (the row is locked by this transaction), write the outbox row — one transaction.
Delete: lock the review row; unknown → 404; another member's (``author`` given and not the review's) → 403,
nothing written (a member learns that a review number exists by being refused it, never what it holds);
already deleted → no-op (no count change, no event, C6); else mark it deleted, subtract it from the totals
(never below zero) and emit the event with ``isDeleted: true``. Both take the review row before the count row.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import func, insert, select, update
from sqlalchemy.dialects.mysql import insert as mysql_insert

from kiwishop.catalog_review.domain import Review, ReviewChange, ReviewError, StarRating, Totals
from kiwishop.catalog_review.queries import REVIEW_COLUMNS, review_of, totals_of, totals_query
from kiwishop.catalog_review.tables import product_review_counts, product_reviews
from kiwishop.contracts.events import PRODUCT_CREATED_REVIEW, PRODUCT_DELETED_REVIEW
from kiwishop.platform.clock import utcnow
from kiwishop.platform.db import Database, UnitOfWork, retry_on_conflict
from kiwishop.platform.errors import AppError
from kiwishop.platform.identity import AuthError
from kiwishop.platform.ids import Snowflake
from kiwishop.platform.outbox import Outbox


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
    db: Database, outbox: Outbox, review_no: int, *, author: int | None, topic: str, attempts: int
) -> ReviewChange | None:
    """Soft-delete the review if ``author`` wrote it (None: whoever did, for ops); None when it already was
    deleted (nothing written, no event)."""
    return await retry_on_conflict(lambda: _delete_once(db, outbox, review_no, author, topic), attempts=attempts)


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


async def _delete_once(
    db: Database, outbox: Outbox, review_no: int, author: int | None, topic: str
) -> ReviewChange | None:
    now = utcnow()
    async with db.uow() as uow:
        row = (
            await uow.conn.execute(
                select(*REVIEW_COLUMNS).where(product_reviews.c.product_review_no == review_no).with_for_update()
            )
        ).first()
        if row is None:
            raise AppError(ReviewError.REVIEW_NOT_FOUND)
        review = review_of(row)
        if author is not None and review.member_no != author:
            raise AppError(AuthError.FORBIDDEN)
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
    return totals_of((await uow.conn.execute(totals_query(product_no))).one())


async def _publish(uow: UnitOfWork, outbox: Outbox, change: ReviewChange, topic: str) -> None:
    await outbox.add(
        uow,
        topic=topic,
        key=str(change.review.product_no),
        event_type=change.event_type,
        payload=dict(change.payload()),
        idempotency_key=change.idempotency_key,
    )
