"""Like reads: a product's like count, whether a member likes a product."""

from __future__ import annotations

from sqlalchemy import select

from kiwishop.catalog_like.tables import product_like_counts, product_likes
from kiwishop.platform.db import Database


async def like_count(db: Database, product_no: int) -> int:
    async with db.engine.connect() as conn:
        value = (
            await conn.execute(
                select(product_like_counts.c.like_count).where(product_like_counts.c.product_no == product_no)
            )
        ).scalar()
    return int(value or 0)


async def has_liked(db: Database, product_no: int, member_no: int) -> bool:
    async with db.engine.connect() as conn:
        found = (
            await conn.execute(
                select(product_likes.c.product_like_no).where(
                    product_likes.c.product_no == product_no, product_likes.c.member_no == member_no
                )
            )
        ).first()
    return found is not None
