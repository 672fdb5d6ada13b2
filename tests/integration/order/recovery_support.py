"""Helpers for the recovery tests: what an order in doubt shows and records, and the state that puts one in doubt."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import text

from kiwishop.platform.db import Database
from tests.integration.order.payments import as_buyer


async def status_of(order: httpx.AsyncClient, order_id: str) -> dict[str, Any]:
    body: dict[str, Any] = (await order.get(f"/api/payments/{order_id}", headers=as_buyer(order_id))).json()
    return body


async def reasons(db: Database, order_id: str) -> list[str]:
    """History reasons of the order's first line, oldest first."""
    async with db.engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT h.reason FROM payment_order_histories h JOIN payment_orders o USING (payment_order_no)"
                " WHERE o.order_id = :o AND o.payment_order_no = (SELECT MIN(payment_order_no) FROM payment_orders"
                " WHERE order_id = :o) ORDER BY h.payment_order_history_no"
            ),
            {"o": order_id},
        )
        return [str(r.reason) for r in rows]


async def confirm_events(db: Database, order_id: str) -> int:
    async with db.engine.connect() as conn:
        found = await conn.execute(
            text("SELECT COUNT(*) FROM outbox WHERE message_key = :o AND event_type = 'PAYMENT_CONFIRM'"),
            {"o": order_id},
        )
        return int(found.scalar_one())


async def make_in_doubt(db: Database, order_id: str, payment_key: str) -> None:
    """The state a confirm whose answer was lost leaves: UNKNOWN, with the key, due now."""
    async with db.uow() as uow:
        await uow.conn.execute(
            text("UPDATE payment_orders SET payment_order_status = 'UNKNOWN' WHERE order_id = :o"), {"o": order_id}
        )
        await uow.conn.execute(
            text(
                "UPDATE payment_events SET payment_key = :k, confirm_started_at = UTC_TIMESTAMP(3),"
                " in_doubt_since = UTC_TIMESTAMP(3), next_attempt_at = UTC_TIMESTAMP(3) WHERE order_id = :o"
            ),
            {"k": payment_key, "o": order_id},
        )
        await uow.commit()
