from __future__ import annotations

import json
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import text

from kiwishop.platform.db import Database
from tests.support import as_member, as_ops


def exact(response: httpx.Response) -> dict:  # type: ignore[type-arg]
    return json.loads(response.content, parse_float=Decimal)  # type: ignore[no-any-return]


async def count(db: Database, sql: str, **params: object) -> int:
    async with db.engine.connect() as conn:
        return int((await conn.execute(text(sql), params)).scalar_one())


async def test_checkout_creates_a_not_started_order_with_one_line_per_product(
    order: httpx.AsyncClient, order_db: Database
) -> None:
    response = await order.post("/api/checkout", json={"memberNo": 1, "productNoList": [1, 2, 3]}, headers=as_member(1))
    assert response.status_code == 201
    body = exact(response)
    assert body["orderName"] == "상품A 그외"
    assert body["amount"] == Decimal("6000.00")
    assert b'"amount":6000.00' in response.content
    lines = await order.get("/api/orders", params={"orderId": body["orderId"]}, headers=as_member(1))
    assert [(line["productNo"], line["sellerNo"], line["status"]) for line in lines.json()["paymentOrderList"]] == [
        (1, 1, "NOT_STARTED"), (2, 1, "NOT_STARTED"), (3, 1, "NOT_STARTED"),
    ]  # fmt: skip
    histories = await count(
        order_db,
        "SELECT COUNT(*) FROM payment_order_histories h JOIN payment_orders o USING (payment_order_no) "
        "WHERE o.order_id = :o AND h.new_status = 'NOT_STARTED' AND h.reason = 'CHECKOUT'",
        o=body["orderId"],
    )
    assert histories == 3


async def test_a_single_product_order_is_named_after_it_without_geuoe(order: httpx.AsyncClient) -> None:
    response = await order.post("/api/checkout", json={"memberNo": 5, "productNoList": [2]}, headers=as_member(5))
    assert exact(response)["orderName"] == "상품B"
    assert exact(response)["amount"] == Decimal("2000.00")


async def test_unknown_products_are_a_400_listing_them_and_create_nothing(
    order: httpx.AsyncClient, order_db: Database
) -> None:
    before = await count(order_db, "SELECT COUNT(*) FROM payment_events")
    response = await order.post(
        "/api/checkout", json={"memberNo": 1, "productNoList": [1, 404, 405]}, headers=as_member(1)
    )
    assert response.status_code == 400
    assert response.json()["code"] == "PEC0001"
    assert "404, 405" in response.json()["message"]
    assert await count(order_db, "SELECT COUNT(*) FROM payment_events") == before


async def test_a_total_that_is_not_whole_won_is_refused(order: httpx.AsyncClient) -> None:
    response = await order.post("/api/checkout", json={"memberNo": 1, "productNoList": [12]}, headers=as_member(1))
    assert response.status_code == 400
    assert response.json()["code"] == "PEC0003"


@pytest.mark.parametrize(
    "body",
    [
        {"memberNo": 1},
        {"memberNo": 0, "productNoList": [1]},
        {"memberNo": 1, "productNoList": []},
        {"memberNo": 1, "productNoList": ["x"]},
        {"memberNo": "one", "productNoList": [1]},
        {"memberNo": 1, "productNoList": list(range(1, 60))},
    ],
)
async def test_bad_checkout_input_is_a_400_and_creates_nothing(
    order: httpx.AsyncClient, order_db: Database, body: dict[str, object]
) -> None:
    before = await count(order_db, "SELECT COUNT(*) FROM payment_events")
    response = await order.post("/api/checkout", json=body, headers=as_member(1))
    assert response.status_code == 400
    assert response.json()["code"] == "INVALID_REQUEST"
    assert await count(order_db, "SELECT COUNT(*) FROM payment_events") == before


async def test_catalog_down_is_a_503_not_a_500(order_settings, infra) -> None:  # type: ignore[no-untyped-def]
    from kiwishop.order.app import create_app
    from tests.support import running_app

    async with running_app(create_app(order_settings(catalog_url="http://127.0.0.1:9"))) as client:
        response = await client.post("/api/checkout", json={"memberNo": 1, "productNoList": [1]}, headers=as_member(1))
    assert response.status_code == 503
    assert response.json()["code"] == "PEC0007"


async def test_the_checkout_page_shows_name_amount_and_pay_button(order: httpx.AsyncClient) -> None:
    page = await order.get("/?productNoList=2&memberNo=9")
    assert page.status_code == 200
    html = page.text
    assert "상품B" in html
    assert "상품B 그외" not in html
    assert "2,000원" in html
    assert "결제하기" in html
    assert 'src="http://localhost:8090/v1/payment"' in html
    default = await order.get("/")
    assert "상품A 그외" in default.text
    assert "6,000원" in default.text


async def test_viewing_the_checkout_page_writes_nothing(order: httpx.AsyncClient, order_db: Database) -> None:
    """Crawlers and reloads create no order: only 결제하기 (POST /api/checkout from the page's script) does."""
    tables = ("payment_events", "payment_orders", "payment_order_histories")
    before = {t: await count(order_db, f"SELECT COUNT(*) FROM {t}") for t in tables}
    for query in ("", "?productNoList=2&memberNo=9", "?productNoList=1,2,3", "?productNoList=999") * 5:
        assert (await order.get(f"/{query}")).status_code in (200, 400)
    assert {t: await count(order_db, f"SELECT COUNT(*) FROM {t}") for t in tables} == before
    page = (await order.get("/?productNoList=1&productNoList=3")).text
    assert "결제하기를 누르면 정해집니다" in page  # no order id until the order exists
    assert "productNoList = [1, 3]" in page  # what 결제하기 will order


async def test_the_checkout_page_refuses_more_than_50_products_like_checkout(order: httpx.AsyncClient) -> None:
    at_most = await order.get("/?productNoList=" + ",".join(map(str, range(1, 51))))
    assert at_most.status_code == 400  # 50 are taken: 4 to 50 are unknown here
    assert "PEC0001" in at_most.text
    too_many = await order.get("/?productNoList=" + ",".join(map(str, range(1, 52))))
    assert too_many.status_code == 400
    assert "INVALID_REQUEST" in too_many.text


async def test_the_checkout_page_shows_a_korean_error_for_unknown_products(order: httpx.AsyncClient) -> None:
    page = await order.get("/?productNoList=999")
    assert page.status_code == 400
    assert "PEC0001" in page.text
    assert "상품이 존재하지 않습니다" in page.text


async def test_an_unknown_order_detail_is_404_and_lists_only_paid_orders(order: httpx.AsyncClient) -> None:
    created = exact(
        await order.post("/api/checkout", json={"memberNo": 77, "productNoList": [1]}, headers=as_member(77))
    )
    missing = await order.get("/api/orders/payment-events/123/members/77", headers=as_member(77))
    assert missing.status_code == 404
    path = f"/api/orders/payment-events/{created['paymentEventNo']}/members/78"
    other_member = await order.get(path, headers=as_ops())  # even ops: it is not member 78's
    assert other_member.status_code == 404
    mine = await order.get(f"/api/orders/payment-events/{created['paymentEventNo']}/members/77", headers=as_member(77))
    assert mine.status_code == 200
    assert mine.json()["paymentDone"] is False
    assert list(mine.json()) == [
        "paymentEventNo", "memberNo", "orderId", "paymentKey", "orderName", "method", "type", "approvedDateTime",
        "paymentOrderList", "paymentDone",
    ]  # fmt: skip
    listed = await order.get("/api/orders/members/77", headers=as_member(77))
    assert listed.json() == {"paymentEventList": [], "nextCursor": None}


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "limit=x", "paymentEventNo=abc", "paymentEventNo=-5"])
async def test_bad_paging_parameters_are_400(order: httpx.AsyncClient, query: str) -> None:
    response = await order.get(f"/api/orders/members/1?{query}", headers=as_member(1))
    assert response.status_code == 400
    assert response.json()["code"] == "INVALID_REQUEST"


async def test_without_hot_catalog_the_main_page_offers_catalog_products_and_still_sells(
    order: httpx.AsyncClient,
) -> None:
    page = await order.get("/")  # hot-catalog is not running in this test: the fallback is catalog's list
    assert page.status_code == 200
    assert "상품 목록" in page.text
    for name in ("상품A", "상품B", "상품C"):
        assert f'<span class="product-name">{name}</span>' in page.text
    assert 'value="2"' in page.text
    assert 'id="product-list"' not in page.text  # no ranking to show
    chosen = await order.get("/?productNoList=2&memberNo=1")
    assert "2,000원" in chosen.text
