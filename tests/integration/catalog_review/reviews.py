"""Helpers for the review tests: request bodies and what the service wrote."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import text

from kiwishop.platform.db import Database


def body(product: int, stars: str = "FIVE", **override: Any) -> dict[str, Any]:
    return {
        "productNo": product,
        "memberNo": 1,
        "title": "좋아요",
        "content": "내용",
        "starRatingType": stars,
    } | override


async def rows(db: Database, sql: str, **params: Any) -> list[Any]:
    async with db.engine.connect() as conn:
        return list((await conn.execute(text(sql), params)).all())


async def review_rows(db: Database, product: int) -> list[Any]:
    return await rows(db, "SELECT * FROM product_reviews WHERE product_no = :p ORDER BY product_review_no", p=product)


async def totals(db: Database, product: int) -> tuple[int, int, int] | None:
    found = await rows(
        db,
        "SELECT review_count, review_star_rating_sum, version FROM product_review_counts WHERE product_no = :p",
        p=product,
    )
    return tuple(found[0]) if found else None  # type: ignore[return-value]


async def outbox_events(db: Database, product: int) -> list[dict[str, Any]]:
    found = await rows(db, "SELECT * FROM outbox WHERE message_key = :k ORDER BY outbox_no", k=str(product))
    return [{"type": r.event_type, "key": r.idempotency_key, **json.loads(r.payload)["payload"]} for r in found]


async def table_sizes(db: Database) -> tuple[int, ...]:
    (row,) = await rows(
        db,
        "SELECT (SELECT COUNT(*) FROM product_reviews), (SELECT COUNT(*) FROM product_review_counts),"
        " (SELECT COUNT(*) FROM outbox)",
    )
    return tuple(row)
