"""Helpers for order payment tests: the emulator as the buyer's browser would use it."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import httpx


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


async def checkout(order: httpx.AsyncClient, products: list[int], member: int = 1) -> dict[str, Any]:
    response = await order.post("/api/checkout", json={"memberNo": member, "productNoList": products})
    assert response.status_code == 201, response.text
    return dict(exact(response))


async def confirm(order: httpx.AsyncClient, payment_key: str, order_id: str, amount: Any) -> httpx.Response:
    return await order.post(
        "/api/payments/confirm", json={"paymentKey": payment_key, "orderId": order_id, "amount": str(amount)}
    )
