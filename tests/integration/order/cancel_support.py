"""Helpers for the cancel tests: a paid order, a cancel request, and what the PSP, the rows and the topic show."""

from __future__ import annotations

import base64
from typing import Any

import httpx
from sqlalchemy import text

from kiwishop.order.settings import TEST_SECRET_KEY
from kiwishop.platform.db import Database
from kiwishop.platform.envelope import Envelope
from kiwishop.platform.settings import InfraSettings
from tests.integration.order.payments import Emulator, as_buyer, checkout, confirm, exact
from tests.support import eventually, read_to_end

AUTH = {"Authorization": "Basic " + base64.b64encode(f"{TEST_SECRET_KEY}:".encode()).decode()}


async def paid_order(
    order: httpx.AsyncClient, emulator: Emulator, products: list[int], member: int = 1
) -> dict[str, Any]:
    """A confirmed order of ``products``: its checkout answer, ``paymentKey``, ``lines`` (productNo → lineNo)."""
    created = await checkout(order, products, member)
    key = await emulator.authorise(created["orderId"], created["amount"], created["orderName"])
    response = await confirm(order, key, created["orderId"], created["amount"])
    assert response.status_code == 200, response.text
    lines = await order.get("/api/orders", params={"orderId": created["orderId"]}, headers=as_buyer(created["orderId"]))
    found = exact(lines)["paymentOrderList"]
    return {**created, "paymentKey": key, "lines": {line["productNo"]: line["paymentOrderNo"] for line in found}}


async def cancel(
    order: httpx.AsyncClient, order_id: str, lines: list[int] | None = None, reason: str = "단순 변심"
) -> httpx.Response:
    body: dict[str, Any] = {"cancelReason": reason}
    if lines is not None:
        body["paymentOrderNos"] = lines
    return await order.post(f"/api/payments/{order_id}/cancel", json=body, headers=as_buyer(order_id))


async def psp_payment(emulator: Emulator, payment_key: str) -> dict[str, Any]:
    """The payment as the PSP reports it (Toss's lookup API)."""
    response = await emulator.client.get(f"/v1/payments/{payment_key}", headers=AUTH)
    assert response.status_code == 200, response.text
    return dict(exact(response))


async def canceled_at_psp(emulator: Emulator) -> int:
    return int((await emulator.stats())["canceled"])


async def cancel_rows(db: Database, order_id: str) -> list[tuple[int, str, str | None]]:
    """(cancelNo, status, failure_code) of the order's cancels."""
    async with db.engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT cancel_no, status, failure_code FROM payment_cancels WHERE order_id = :o ORDER BY cancel_no"),
            {"o": order_id},
        )
        return [(r.cancel_no, r.status, r.failure_code) for r in rows]


async def line_statuses(db: Database, order_id: str) -> dict[int, str]:
    """productNo → the line's status."""
    async with db.engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT product_no, payment_order_status FROM payment_orders WHERE order_id = :o"), {"o": order_id}
        )
        return {r.product_no: r.payment_order_status for r in rows}


async def cancel_events(db: Database, order_id: str) -> int:
    """PAYMENT_CANCELED rows of the order in the outbox."""
    async with db.engine.connect() as conn:
        found = await conn.execute(
            text("SELECT COUNT(*) FROM outbox WHERE message_key = :o AND event_type = 'PAYMENT_CANCELED'"),
            {"o": order_id},
        )
        return int(found.scalar_one())


async def published_cancels(infra: InfraSettings, db: Database, topic: str, order_id: str) -> list[Envelope]:
    """The PAYMENT_CANCELED records of ``order_id`` on ``topic``, once the relay published every outbox row."""

    async def unpublished() -> int:
        async with db.engine.connect() as conn:
            found = await conn.execute(
                text("SELECT COUNT(*) FROM outbox WHERE message_key = :o AND status <> 'SUCCESS'"), {"o": order_id}
            )
            return int(found.scalar_one())

    await eventually(unpublished, lambda n: n == 0, timeout_s=20)
    envelopes = [Envelope.from_record(r.key, r.value) for r in await read_to_end(infra, topic)]
    return [e for e in envelopes if e.key == order_id and e.type == "PAYMENT_CANCELED"]
