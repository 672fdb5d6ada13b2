from __future__ import annotations

import json
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import text

from kiwishop.platform.db import Database
from tests.support import as_seller, unique

SEED_1 = {"productNo": 1, "sellerNo": 1, "productId": "A", "name": "상품A", "price": Decimal("1000.00")}
SEED_2 = {"productNo": 2, "sellerNo": 1, "productId": "B", "name": "상품B", "price": Decimal("2000.00")}
SEED_3 = {"productNo": 3, "sellerNo": 1, "productId": "C", "name": "상품C", "price": Decimal("3000.00")}


def exact(response: httpx.Response) -> object:
    return json.loads(response.content, parse_float=Decimal)


async def product_count(db: Database) -> int:
    async with db.engine.connect() as conn:
        return int((await conn.execute(text("SELECT COUNT(*) FROM products"))).scalar_one())


async def test_repeated_product_numbers_return_those_products_with_two_decimal_prices(
    catalog: httpx.AsyncClient,
) -> None:
    response = await catalog.get("/products?productNoList=1&productNoList=3")
    assert response.status_code == 200
    assert exact(response) == {"productList": [SEED_1, SEED_3]}
    assert b'"price":1000.00' in response.content
    assert list(response.json()["productList"][0]) == ["productNo", "sellerNo", "productId", "name", "price"]


async def test_the_comma_form_equals_the_repeated_form_unknown_ids_omitted_duplicates_once(
    catalog: httpx.AsyncClient,
) -> None:
    comma = await catalog.get("/products?productNoList=2,1,999999,2")
    repeated = await catalog.get("/products", params=[("productNoList", "1"), ("productNoList", "2")])
    assert comma.status_code == repeated.status_code == 200
    assert exact(comma) == exact(repeated) == {"productList": [SEED_1, SEED_2]}


async def test_an_empty_value_returns_an_empty_list(catalog: httpx.AsyncClient) -> None:
    response = await catalog.get("/products?productNoList=")
    assert response.status_code == 200
    assert response.json() == {"productList": []}


@pytest.mark.parametrize(
    "query", ["", "?productNoList=x", "?productNoList=1,x", "?productNoList=-1", "?productNoList=99999999999999999999"]
)
async def test_a_missing_or_non_numeric_product_list_is_a_400_with_the_error_body(
    catalog: httpx.AsyncClient, query: str
) -> None:
    response = await catalog.get(f"/products{query}")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "CTG0003"
    assert body["message"]


async def test_too_many_ids_in_one_lookup_is_a_400(catalog: httpx.AsyncClient) -> None:
    response = await catalog.get("/products", params={"productNoList": ",".join(str(i) for i in range(1, 1002))})
    assert response.status_code == 400
    assert response.json()["code"] == "CTG0004"


async def test_one_product_by_number_and_404_for_an_unknown_one(catalog: httpx.AsyncClient) -> None:
    found = await catalog.get("/products/2")
    assert found.status_code == 200
    assert exact(found) == SEED_2
    missing = await catalog.get("/products/424242", headers={"Accept-Language": "en"})
    assert missing.status_code == 404
    assert missing.json() == {"code": "CTG0001", "message": "The product does not exist."}
    bad = await catalog.get("/products/abc")
    assert bad.status_code == 400
    assert bad.json()["code"] == "INVALID_REQUEST"


async def test_a_seller_registers_a_product_and_can_look_it_up(catalog: httpx.AsyncClient) -> None:
    product_id = unique("sku")
    response = await catalog.post(
        "/api/products",
        json={"sellerNo": 7, "productId": product_id, "name": "새 상품", "price": 1234},
        headers=as_seller(7),
    )
    assert response.status_code == 201
    created = exact(response)
    assert created["price"] == Decimal("1234.00")
    assert b'"price":1234.00' in response.content
    assert created["productNo"] > 3
    again = await catalog.get(f"/products/{created['productNo']}")
    assert exact(again) == created


async def test_the_same_product_id_twice_for_one_seller_is_a_409(
    catalog: httpx.AsyncClient, catalog_db: Database
) -> None:
    body = {"sellerNo": 8, "productId": unique("sku"), "name": "중복", "price": "10.00"}
    assert (await catalog.post("/api/products", json=body, headers=as_seller(8))).status_code == 201
    before = await product_count(catalog_db)
    second = await catalog.post("/api/products", json=body, headers=as_seller(8))
    assert second.status_code == 409
    assert second.json()["code"] == "CTG0002"
    assert await product_count(catalog_db) == before


@pytest.mark.parametrize(
    "body",
    [
        {"sellerNo": 1, "productId": "p", "name": "n", "price": 0},
        {"sellerNo": 1, "productId": "p", "name": "n", "price": -5},
        {"sellerNo": 1, "productId": "p", "name": "n", "price": 1.234},
        {"sellerNo": 1, "productId": "p", "name": "n", "price": 10_000_000_000},
        {"sellerNo": 1, "productId": "p", "name": "n", "price": "abc"},
        {"sellerNo": 1, "productId": "p", "name": "x" * 51, "price": 1},
        {"sellerNo": 1, "productId": "p", "name": "   ", "price": 1},
        {"sellerNo": 1, "productId": "", "name": "n", "price": 1},
        {"sellerNo": 0, "productId": "p", "name": "n", "price": 1},
        {"productId": "p", "name": "n", "price": 1},
        {"sellerNo": 1, "productId": "p", "name": "n", "price": 1, "extra": True},
    ],
)
async def test_bad_product_registrations_are_400_and_write_nothing(
    catalog: httpx.AsyncClient, catalog_db: Database, body: dict[str, object]
) -> None:
    before = await product_count(catalog_db)
    response = await catalog.post("/api/products", json=body, headers=as_seller(1))
    assert response.status_code == 400
    assert response.json()["code"] == "INVALID_REQUEST"
    assert response.json()["details"]
    assert await product_count(catalog_db) == before


async def test_malformed_json_is_a_400_malformed_json_error(catalog: httpx.AsyncClient, catalog_db: Database) -> None:
    before = await product_count(catalog_db)
    response = await catalog.post(
        "/api/products",
        content=b'{"sellerNo": 1, "name": ',
        headers={"Content-Type": "application/json", **as_seller(1)},
    )
    assert response.status_code == 400
    assert response.json()["code"] == "MALFORMED_JSON"
    assert await product_count(catalog_db) == before


async def test_a_51_character_name_is_rejected_but_50_characters_are_accepted(catalog: httpx.AsyncClient) -> None:
    ok = await catalog.post(
        "/api/products",
        json={"sellerNo": 9, "productId": unique("sku"), "name": "가" * 50, "price": 1},
        headers=as_seller(9),
    )
    assert ok.status_code == 201
    assert ok.json()["name"] == "가" * 50


async def test_browsing_pages_through_every_product_in_ascending_order(catalog: httpx.AsyncClient) -> None:
    first = await catalog.get("/api/products", params={"limit": 2})
    assert first.status_code == 200
    assert [p["productNo"] for p in first.json()["productList"]] == [1, 2]
    second = await catalog.get("/api/products", params={"limit": 2, "after": 2})
    assert second.json()["productList"][0]["productNo"] == 3
    assert (await catalog.get("/api/products", params={"limit": 0})).status_code == 400
    assert (await catalog.get("/api/products", params={"after": "x"})).status_code == 400
