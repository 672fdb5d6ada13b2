"""Helpers for order payment tests: the emulator as the buyer's browser would use it."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import text

from kiwishop.platform.db import Database
from kiwishop.platform.envelope import Envelope
from kiwishop.platform.settings import InfraSettings
from tests.support import as_member, eventually, read_to_end

BUYERS: dict[str, int] = {}  # orderId → the member whose checkout made it (``checkout``)


def exact(response: httpx.Response) -> Any:
    return json.loads(response.content, parse_float=Decimal)


class Emulator:
    """The Toss emulator's test surface (programmatic window, faults, stats)."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def authorise(self, order_id: str, amount: Decimal, order_name: str = "주문", **extra: Any) -> str:
        response = await self.client.post(
            "/emulator/payments", json={"orderId": order_id, "amount": int(amount), "orderName": order_name, **extra}
        )
        assert response.status_code == 201, response.text
        return str(response.json()["paymentKey"])

    async def faults(self, **values: Any) -> None:
        response = await self.client.put("/emulator/faults", json=values)
        assert response.status_code == 200, response.text

    async def stats(self) -> dict[str, Any]:
        return dict(exact(await self.client.get("/emulator/stats")))

    async def approved(self) -> int:
        return int((await self.stats())["approved"])

    async def confirm_requests(self) -> int:
        return int((await self.stats())["confirmRequests"])


def as_buyer(order_id: str) -> dict[str, str]:
    """The headers of the member who bought ``order_id`` (``checkout`` remembers; member 1 for an order it did not
    make): the buyer alone may confirm, cancel and read their order."""
    return as_member(BUYERS.get(order_id, 1))


async def checkout(order: httpx.AsyncClient, products: list[int], member: int = 1) -> dict[str, Any]:
    body = {"memberNo": member, "productNoList": products}
    response = await order.post("/api/checkout", json=body, headers=as_member(member))
    assert response.status_code == 201, response.text
    created = dict(exact(response))
    BUYERS[created["orderId"]] = member
    return created


async def confirm(order: httpx.AsyncClient, payment_key: str, order_id: str, amount: Any) -> httpx.Response:
    """The buyer's confirm (``as_buyer``)."""
    body = {"paymentKey": payment_key, "orderId": order_id, "amount": str(amount)}
    return await order.post("/api/payments/confirm", json=body, headers=as_buyer(order_id))


async def published_confirms(infra: InfraSettings, db: Database, topic: str, order_id: str) -> list[Envelope]:
    """The PAYMENT_CONFIRM records of ``order_id`` on ``topic``, read once the relay published every outbox row
    of the order (the broker acknowledged them: they are on the topic), up to the topic's end — no idle window."""

    async def unpublished() -> int:
        async with db.engine.connect() as conn:
            found = await conn.execute(
                text("SELECT COUNT(*) FROM outbox WHERE message_key = :o AND status <> 'SUCCESS'"), {"o": order_id}
            )
            return int(found.scalar_one())

    await eventually(unpublished, lambda n: n == 0, timeout_s=20)
    envelopes = [Envelope.from_record(r.key, r.value) for r in await read_to_end(infra, topic)]
    return [e for e in envelopes if e.key == order_id and e.type == "PAYMENT_CONFIRM"]
