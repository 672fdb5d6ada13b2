"""Catalog's share of "one rule per fact": prices are whole won (what order can charge), and the product list
pages by the shop's one paging rule (limit 1..100, nextCursor)."""

from __future__ import annotations

import json
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import text

from kiwishop.platform.db import Database
from tests.support import as_seller, unique


async def product_count(db: Database) -> int:
    async with db.engine.connect() as conn:
        return int((await conn.execute(text("SELECT COUNT(*) FROM products"))).scalar_one())


def product(price: object) -> dict[str, object]:
    return {"sellerNo": 7, "productId": unique("won"), "name": "원 단위 상품", "price": price}


@pytest.mark.parametrize("price", [12345.67, "12345.67", "0.5", 1.5])
async def test_a_price_that_is_not_whole_won_is_a_400_that_writes_nothing(
    catalog: httpx.AsyncClient, catalog_db: Database, price: object
) -> None:
    before = await product_count(catalog_db)
    korean = await catalog.post("/api/products", json=product(price), headers=as_seller(7))
    english = await catalog.post(
        "/api/products", json=product(price), headers={"Accept-Language": "en", **as_seller(7)}
    )
    assert korean.status_code == english.status_code == 400
    assert korean.json()["code"] == english.json()["code"] == "INVALID_REQUEST"
    [detail] = korean.json()["details"]
    assert detail["field"] == "price"
    assert "원 단위" in detail["message"]
    [detail] = english.json()["details"]
    assert detail["field"] == "price"
    assert "whole won" in detail["message"]
    assert await product_count(catalog_db) == before


@pytest.mark.parametrize("price", [12345, "12345", "12345.00", 12345.0])
async def test_whole_won_prices_are_registered_with_two_decimals(catalog: httpx.AsyncClient, price: object) -> None:
    response = await catalog.post("/api/products", json=product(price), headers=as_seller(7))
    assert response.status_code == 201, response.text
    assert json.loads(response.content, parse_float=Decimal)["price"] == Decimal("12345.00")
    assert b'"price":12345.00' in response.content


async def walk(catalog: httpx.AsyncClient, limit: int) -> tuple[list[int], int]:
    """Every product on sale, following nextCursor; and how many pages that took."""
    seen: list[int] = []
    after: str | None = None
    pages = 0
    while True:
        params = {"limit": limit, **({"after": after} if after else {})}
        page = (await catalog.get("/api/products", params=params)).json()
        assert list(page) == ["productList", "nextCursor"]
        seen += [p["productNo"] for p in page["productList"]]
        pages += 1
        after = page["nextCursor"]
        if after is None:
            return seen, pages
        assert len(page["productList"]) == limit
        assert after == str(page["productList"][-1]["productNo"])


async def test_the_product_list_answers_a_next_cursor_until_the_last_page(catalog: httpx.AsyncClient) -> None:
    small, pages = await walk(catalog, 2)
    large, _ = await walk(catalog, 100)
    assert small == large == sorted(set(small))
    assert pages == -(-len(small) // 2)  # a full last page says so: no empty page after it
    assert pages >= 2


@pytest.mark.parametrize("limit", ["101", "0", "-1", "abc"])
async def test_a_limit_outside_1_to_100_is_a_400(catalog: httpx.AsyncClient, limit: str) -> None:
    response = await catalog.get(f"/api/products?limit={limit}")
    assert response.status_code == 400
    assert response.json()["code"] == "INVALID_REQUEST"
    assert response.json()["details"][0]["field"] == "query.limit"
