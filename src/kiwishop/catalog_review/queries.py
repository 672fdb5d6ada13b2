"""Review reads: a product's reviews a page at a time, its totals (count, star sum) — and how a review or
totals row reads, which the writes (``handlers``) share."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, false, select

from kiwishop.catalog_review.domain import Review, StarRating, Totals
from kiwishop.catalog_review.tables import product_review_counts, product_reviews
from kiwishop.platform.db import Database

REVIEW_COLUMNS = (
    product_reviews.c.product_review_no,
    product_reviews.c.product_no,
    product_reviews.c.member_no,
    product_reviews.c.title,
    product_reviews.c.content,
    product_reviews.c.star_rating,
    product_reviews.c.is_deleted,
    product_reviews.c.created_at,
)


def review_of(row: Any) -> Review:
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


def totals_query(product_no: int) -> Select[Any]:
    """The product's totals row (count, star sum, version); none before its first review."""
    t = product_review_counts
    return select(t.c.review_count, t.c.review_star_rating_sum, t.c.version).where(t.c.product_no == product_no)


def totals_of(row: Any) -> Totals:
    return Totals(
        review_count=int(row.review_count),
        star_rating_sum=int(row.review_star_rating_sum),
        version=int(row.version),
    )


async def list_reviews(
    db: Database, product_no: int, before: int | None, limit: int
) -> tuple[list[Review], int | None]:
    """One page of the product's reviews, newest first (ids are time-ordered); the next page's cursor or None."""
    query = select(*REVIEW_COLUMNS).where(
        product_reviews.c.product_no == product_no, product_reviews.c.is_deleted == false()
    )
    if before is not None:
        query = query.where(product_reviews.c.product_review_no < before)
    query = query.order_by(product_reviews.c.product_review_no.desc()).limit(limit + 1)
    async with db.engine.connect() as conn:
        reviews = [review_of(row) for row in await conn.execute(query)]
    if len(reviews) > limit:
        return reviews[:limit], reviews[limit - 1].product_review_no
    return reviews, None


async def totals(db: Database, product_no: int) -> Totals:
    """The product's totals; zero (version -1) before its first review."""
    async with db.engine.connect() as conn:
        row = (await conn.execute(totals_query(product_no))).first()
    if row is None:
        return Totals(review_count=0, star_rating_sum=0, version=-1)
    return totals_of(row)
