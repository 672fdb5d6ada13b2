"""Who may register a product: only the seller the body names, with its own token. Anyone else is refused
before anything is written (no product row), and catalog's reads stay open to anyone."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import text

from kiwishop.platform.db import Database
from tests.support import as_member, as_ops, as_seller, unique


async def rows_for(db: Database, product_id: str) -> int:
    async with db.engine.connect() as conn:
        sql = text("SELECT COUNT(*) FROM products WHERE product_id = :p")
        return int((await conn.execute(sql, {"p": product_id})).scalar_one())


@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [
        ({}, 401, "AUTH0001"),
        ({"Authorization": "Bearer not-a-token"}, 401, "AUTH0001"),
        (as_member(7), 403, "AUTH0002"),
        (as_seller(8), 403, "AUTH0002"),  # a live seller, but not the one the body names
        (as_ops(), 403, "AUTH0002"),  # ops reads anything, but lists nothing for a seller
    ],
    ids=["anonymous", "invalid", "member", "another-seller", "ops"],
)
async def test_only_the_named_seller_registers_a_product_and_a_refusal_writes_nothing(
    catalog: httpx.AsyncClient, catalog_db: Database, headers: dict[str, str], status: int, code: str
) -> None:
    product_id = unique("acl")
    body = {"sellerNo": 7, "productId": product_id, "name": "남의 상품", "price": 1000}
    refused = await catalog.post("/api/products", json=body, headers={"Accept-Language": "en", **headers})
    assert (refused.status_code, refused.json()["code"]) == (status, code)
    assert await rows_for(catalog_db, product_id) == 0
    mine = await catalog.post("/api/products", json=body, headers=as_seller(7))
    assert (mine.status_code, mine.json()["sellerNo"]) == (201, 7)
    assert await rows_for(catalog_db, product_id) == 1


async def test_catalog_reads_need_no_token(catalog: httpx.AsyncClient) -> None:
    assert (await catalog.get("/products", params={"productNoList": "1,2"})).status_code == 200
    assert (await catalog.get("/products/1")).status_code == 200
    assert (await catalog.get("/api/products", params={"limit": 1})).status_code == 200
