"""A buyer and a reader for the order-query tests: pay through order and the Toss emulator, read pages."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

import httpx

from tests.support import as_member, emulator_admin

FROM_TEST = "x-kiwi-test"  # order's call counter ignores the test's own reads


def exact(response: httpx.Response) -> Any:
    """JSON with money as Decimal (so 1000.00 and 1000.0 stay distinguishable)."""
    return json.loads(response.content, parse_float=Decimal)


async def walk(client: httpx.AsyncClient, member: int, limit: int = 10, max_pages: int = 1000) -> list[list[Any]]:
    """Every page of a member's history with the cursor, up to (and including) the first empty page, read as that
    member (order and order-query both show a member no paymentKey)."""
    pages: list[list[Any]] = []
    cursor: int | None = None
    for _ in range(max_pages):
        params: dict[str, int] = {"limit": limit}
        if cursor is not None:
            params["paymentEventNo"] = cursor
        response = await client.get(f"/api/orders/members/{member}", params=params, headers=as_member(member))
        assert response.status_code == 200, response.text
        page = exact(response)["paymentEventList"]
        pages.append(page)
        if not page:
            return pages
        cursor = page[-1]["paymentEventNo"]
    raise AssertionError("the history did not end")


class Shop:
    def __init__(self, order: httpx.AsyncClient, emulator: httpx.AsyncClient) -> None:
        self.order = order
        self.emulator = emulator

    @classmethod
    @asynccontextmanager
    async def open(cls, order_url: str, emulator_url: str) -> AsyncIterator[Shop]:
        async with (
            httpx.AsyncClient(base_url=order_url, timeout=30, headers={FROM_TEST: "1"}) as order,
            httpx.AsyncClient(base_url=emulator_url, timeout=30, headers=emulator_admin()) as emulator,
        ):
            yield cls(order, emulator)

    async def checkout(self, member: int, products: tuple[int, ...] = (1, 2, 3)) -> dict[str, Any]:
        body = {"memberNo": member, "productNoList": list(products)}
        response = await self.order.post("/api/checkout", json=body, headers=as_member(member))
        assert response.status_code == 201, response.text
        return dict(exact(response))

    async def pay(self, member: int, products: tuple[int, ...] = (1, 2, 3)) -> int:
        """Checkout, authorise in the (emulated) payment window, confirm: a paid order's paymentEventNo."""
        order = await self.checkout(member, products)
        authorised = await self.emulator.post(
            "/emulator/payments",
            json={"orderId": order["orderId"], "amount": int(order["amount"]), "orderName": order["orderName"]},
        )
        assert authorised.status_code == 201, authorised.text
        confirmed = await self.order.post(
            "/api/payments/confirm",
            json={
                "paymentKey": authorised.json()["paymentKey"],
                "orderId": order["orderId"],
                "amount": str(order["amount"]),
            },
            headers=as_member(member),
        )
        assert confirmed.status_code == 200, confirmed.text
        assert confirmed.json()["status"] == "SUCCESS", confirmed.text
        return int(order["paymentEventNo"])

    async def pay_many(self, member: int, count: int, concurrency: int = 8) -> list[int]:
        gate = asyncio.Semaphore(concurrency)

        async def one(i: int) -> int:
            async with gate:
                return await self.pay(member, ((1, 2, 3), (2,), (3, 1))[i % 3])

        return sorted(await asyncio.gather(*(one(i) for i in range(count))), reverse=True)
