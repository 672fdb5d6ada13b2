"""The sources of truth of the hot-catalog rebuild tests: rows in catalog-like's, catalog-review's and
order's schemas (created with their own migrations), and the events their services published for them."""

from __future__ import annotations

import itertools
from typing import Any

from sqlalchemy import text

from kiwishop.ops.hot_catalog_sources import SchemaNames
from kiwishop.platform.db import Database
from kiwishop.platform.envelope import Envelope
from kiwishop.platform.settings import InfraSettings
from tests.cancel_payloads import payment_canceled
from tests.integration.hot_catalog.events import liked, reviewed
from tests.payloads import ConfirmLine, payment_confirm
from tests.support import unique

numbers = itertools.count(9_100_000_000_000_000)  # ids of orders, lines and events; never reused


class World:
    """Rows in the three source schemas, and the events their services published on the way there."""

    def __init__(self, infra: InfraSettings, names: SchemaNames) -> None:
        self.like_db = Database.connect(infra, names.like_db, pool_size=1, max_overflow=0)
        self.review_db = Database.connect(infra, names.review_db, pool_size=1, max_overflow=0)
        self.order_db = Database.connect(infra, names.order_db, pool_size=1, max_overflow=0)
        self.events: list[Envelope] = []

    async def close(self) -> None:
        for db in (self.like_db, self.review_db, self.order_db):
            await db.close()

    async def truncate(self) -> None:
        for db, tables in ((self.like_db, ["product_like_counts"]), (self.review_db, ["product_review_counts"]),
                           (self.order_db, ["payment_orders", "payment_events"])):  # fmt: skip
            async with db.engine.begin() as conn:
                for table in tables:
                    await conn.execute(text(f"DELETE FROM {table}"))

    async def likes(self, product: int, counts: list[int]) -> list[Envelope]:
        """Like totals announced with versions 0, 1, …; the row holds the last."""
        events = [liked(product, count, version) for version, count in enumerate(counts)]
        await self._upsert(self.like_db, "product_like_counts", "like_count", product, (counts[-1],), len(counts) - 1)
        self.events += events
        return events

    async def reviews(self, product: int, totals: list[tuple[int, int]]) -> list[Envelope]:
        events = [reviewed(product, count, stars, version) for version, (count, stars) in enumerate(totals)]
        columns = "review_count, review_star_rating_sum"
        await self._upsert(self.review_db, "product_review_counts", columns, product, totals[-1], len(totals) - 1)
        self.events += events
        return events

    async def _upsert(self, db: Database, table: str, columns: str, product: int, values: Any, version: int) -> None:
        names = ["v" + str(i) for i in range(len(values))]
        sql = (
            f"REPLACE INTO {table} (product_no, {columns}, version, created_at, updated_at) "
            f"VALUES (:p, {', '.join(':' + n for n in names)}, :version, UTC_TIMESTAMP(3), UTC_TIMESTAMP(3))"
        )
        async with db.engine.begin() as conn:
            await conn.execute(text(sql), {"p": product, "version": version, **dict(zip(names, values, strict=True))})

    async def order(self, *products: int, status: str = "SUCCESS") -> Envelope | None:
        """An order of these lines; a paid one (SUCCESS) has its PAYMENT_CONFIRM (with the rows' numbers), which is
        returned."""
        event_no, event_id, order_id = next(numbers), next(numbers), unique("order")
        done = status == "SUCCESS"
        lines = [ConfirmLine(next(numbers), 1, "1000.00", product_no=p, product_name="x") for p in products]
        async with self.order_db.engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO payment_events (payment_event_no, member_no, is_payment_done, order_id, type, "
                    "order_name, total_amount, created_at, updated_at, confirm_event_id) VALUES (:no, 1, :done, :oid, "
                    "'NORMAL', 'x', 1000, UTC_TIMESTAMP(3), UTC_TIMESTAMP(3), :eid)"
                ),
                {"no": event_no, "done": done, "oid": order_id, "eid": event_id if done else None},
            )
            for line in lines:
                await conn.execute(
                    text(
                        "INSERT INTO payment_orders (payment_order_no, payment_event_no, product_no, seller_no, "
                        "order_id, product_name, amount, payment_order_status, created_at, updated_at) VALUES "
                        "(:line, :no, :p, 1, :oid, 'x', 1000, :status, UTC_TIMESTAMP(3), UTC_TIMESTAMP(3))"
                    ),
                    {"line": line.payment_order_no, "no": event_no, "p": line.product_no, "oid": order_id,
                     "status": status},
                )  # fmt: skip
        if not done:
            return None
        event = payment_confirm(order_id, lines, event_id=event_id, payment_event_no=event_no)
        self.events.append(event)
        return event

    async def cancel(self, confirm: Envelope, *line_nos: int, earlier: tuple[int, ...] = ()) -> Envelope:
        """A cancel of these lines of a paid order, as order records it (the lines CANCELED), and its
        PAYMENT_CANCELED, which is returned."""
        async with self.order_db.engine.begin() as conn:
            for line_no in line_nos:
                await conn.execute(
                    text("UPDATE payment_orders SET payment_order_status = 'CANCELED' WHERE payment_order_no = :n"),
                    {"n": line_no},
                )
        event = payment_canceled(confirm, line_nos, already_canceled=earlier, cancel_no=len(earlier) + 1)
        self.events.append(event)
        return event

    async def shop(self) -> None:
        """Six products: likes that rose and fell, reviews created and deleted, orders of every kind."""
        for product in range(1, 7):
            await self.likes(product, [1, 2, 3, 2, 3, 4][: product + 1])
            if product % 2:
                await self.reviews(product, [(1, 5), (2, 6), (1, 1), (2, 4)][: product // 2 + 1])
        await self.order(1, 2)
        await self.order(3, 3, 4)  # two lines of one product
        await self.order(5)
        await self.order(2, 6)
        await self.order(4, status="NOT_STARTED")  # never paid: no PAYMENT_CONFIRM, not counted
        await self.order(6, status="FAILURE")


async def allow_canceled_lines(infra: InfraSettings, order_db: str) -> None:
    """Order's line status takes CANCELED (order's cancels migration adds it); a schema without it gets it here,
    so these tests stand on their own."""
    db = Database.connect(infra, order_db, pool_size=1, max_overflow=0)
    try:
        async with db.engine.begin() as conn:
            column = (await conn.execute(text("SHOW COLUMNS FROM payment_orders LIKE 'payment_order_status'"))).one()
            if "'CANCELED'" not in column.Type:
                kinds = column.Type[:-1] + ",'CANCELED')"
                await conn.execute(text(f"ALTER TABLE payment_orders MODIFY payment_order_status {kinds} NOT NULL"))
    finally:
        await db.close()
