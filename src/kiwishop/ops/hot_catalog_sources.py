"""What ``kiwishop rebuild-hot-catalog`` replays, read (read-only) straight from the sources of truth:

- catalog-like: ``product_like_counts`` (like total and its version, per product);
- catalog-review: ``product_review_counts`` (live reviews, star sum and their version, per product);
- order: the paid lines of ``payment_orders`` with their order's ``confirm_event_id`` (the eventId of its
  PAYMENT_CONFIRM) — every line of an order that has one (all were SUCCESS when it was paid; a line given
  back since is ``CANCELED``, or on its way there), and SUCCESS lines of an order without one (reported,
  not replayed) — and the ``CANCELED`` lines of those orders, each taken out once.

Schema names are each service's ``db_name`` (``KIWI_CATALOG_LIKE_DB_NAME``, ``KIWI_CATALOG_REVIEW_DB_NAME``,
``KIWI_ORDER_DB_NAME`` or their defaults). Rows are read by primary key in chunks, each chunk its own
statement: rows committed meanwhile may or may not be seen, which the rebuild allows for (their events
reach the live consumer after the clear).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text

from kiwishop.catalog_like.settings import CatalogLikeSettings
from kiwishop.catalog_review.settings import CatalogReviewSettings
from kiwishop.hot_catalog.domain import CanceledLine, TotalsUpdate
from kiwishop.hot_catalog.rebuild import PaidOrder
from kiwishop.order.settings import OrderSettings
from kiwishop.platform.db import Database
from kiwishop.platform.settings import InfraSettings

LIKES = text(
    "SELECT product_no, like_count, version FROM product_like_counts "
    "WHERE product_no > :after ORDER BY product_no LIMIT :chunk"
)
REVIEWS = text(
    "SELECT product_no, review_count, review_star_rating_sum, version FROM product_review_counts "
    "WHERE product_no > :after ORDER BY product_no LIMIT :chunk"
)
PAID_LINES = text(
    "SELECT o.payment_event_no, o.payment_order_no, o.product_no, e.confirm_event_id "
    "FROM payment_orders o JOIN payment_events e ON e.payment_event_no = o.payment_event_no "
    "WHERE (e.confirm_event_id IS NOT NULL OR o.payment_order_status = 'SUCCESS') AND (o.payment_event_no > :event "
    "OR (o.payment_event_no = :event AND o.payment_order_no > :line)) "
    "ORDER BY o.payment_event_no, o.payment_order_no LIMIT :chunk"
)
CANCELED_LINES = text(
    "SELECT o.payment_order_no, o.product_no "
    "FROM payment_orders o JOIN payment_events e ON e.payment_event_no = o.payment_event_no "
    "WHERE o.payment_order_status = 'CANCELED' AND e.confirm_event_id IS NOT NULL AND o.payment_order_no > :after "
    "ORDER BY o.payment_order_no LIMIT :chunk"
)


@dataclass(frozen=True)
class SchemaNames:
    like_db: str
    review_db: str
    order_db: str

    @classmethod
    def from_settings(cls, infra: InfraSettings) -> SchemaNames:
        return cls(
            like_db=CatalogLikeSettings(infra=infra).db_name,
            review_db=CatalogReviewSettings(infra=infra).db_name,
            order_db=OrderSettings(infra=infra).db_name,
        )


def _after_product(row: Any) -> dict[str, int]:
    return {"after": row.product_no}


def _after_canceled(row: Any) -> dict[str, int]:
    return {"after": row.payment_order_no}


def _after_line(row: Any) -> dict[str, int]:
    return {"event": row.payment_event_no, "line": row.payment_order_no}


async def _chunks(
    db: Database, query: Any, after: Callable[[Any], dict[str, int]], start: dict[str, int], chunk: int
) -> AsyncIterator[list[Any]]:
    """Keyset pages of ``query``: the next page starts after the key ``after`` reads from the last row."""
    params = start
    while True:
        async with db.engine.connect() as conn:
            rows = list(await conn.execute(query, {**params, "chunk": chunk}))
        if rows:
            yield rows
        if len(rows) < chunk:
            return
        params = after(rows[-1])


class SqlSources:
    """``kiwishop.hot_catalog.rebuild.Sources`` over the three schemas."""

    def __init__(self, like: Database, review: Database, order: Database, *, chunk: int = 5000) -> None:
        self._like = like
        self._review = review
        self._order = order
        self._chunk = chunk

    async def like_totals(self) -> AsyncIterator[TotalsUpdate]:
        async for rows in _chunks(self._like, LIKES, _after_product, {"after": 0}, self._chunk):
            for row in rows:
                yield TotalsUpdate(
                    kind="likes",
                    product_no=int(row.product_no),
                    version=int(row.version),
                    values=(int(row.like_count),),
                )

    async def review_totals(self) -> AsyncIterator[TotalsUpdate]:
        async for rows in _chunks(self._review, REVIEWS, _after_product, {"after": 0}, self._chunk):
            for row in rows:
                yield TotalsUpdate(
                    kind="reviews",
                    product_no=int(row.product_no),
                    version=int(row.version),
                    values=(int(row.review_count), int(row.review_star_rating_sum)),
                )

    async def canceled_lines(self) -> AsyncIterator[CanceledLine]:
        async for rows in _chunks(self._order, CANCELED_LINES, _after_canceled, {"after": 0}, self._chunk):
            for row in rows:
                yield CanceledLine(payment_order_no=int(row.payment_order_no), product_no=int(row.product_no))

    async def paid_orders(self) -> AsyncIterator[PaidOrder]:
        """One per paid payment event, its lines grouped by product (an event may span two chunks)."""
        current: int | None = None
        order = PaidOrder(event_id=None, lines={})
        async for rows in _chunks(self._order, PAID_LINES, _after_line, {"event": 0, "line": 0}, self._chunk):
            for row in rows:
                if row.payment_event_no != current:
                    if current is not None:
                        yield order
                    current = row.payment_event_no
                    event_id = None if row.confirm_event_id is None else int(row.confirm_event_id)
                    order = PaidOrder(event_id=event_id, lines={})
                product_no = int(row.product_no)
                order.lines[product_no] = order.lines.get(product_no, 0) + 1
        if current is not None:
            yield order


@asynccontextmanager
async def open_sources(
    infra: InfraSettings, names: SchemaNames | None = None, *, chunk: int = 5000
) -> AsyncIterator[SqlSources]:
    """The three schemas of ``names`` (by default the services' own), one small pool each."""
    names = names or SchemaNames.from_settings(infra)
    schemas = (names.like_db, names.review_db, names.order_db)
    dbs = [Database.connect(infra, db, pool_size=1, max_overflow=0) for db in schemas]
    try:
        yield SqlSources(*dbs, chunk=chunk)
    finally:
        for db in dbs:
            await db.close()
