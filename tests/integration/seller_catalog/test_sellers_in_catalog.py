"""Catalog learns sellers from seller's events, never by calling seller: a seller registered at seller can
sell at catalog a moment later; a registration wallet refuses (compensated) takes that seller's products off
sale in every read, so order's checkout refuses them (PEC0001)."""

from __future__ import annotations

from typing import Any

import httpx

from kiwishop.contracts.topics import SELLER
from kiwishop.platform.db import Database
from kiwishop.platform.settings import InfraSettings
from kiwishop.seller.app import create_app as create_seller
from kiwishop.wallet.app import create_app as create_wallet
from tests.integration.seller_wallet.support import decoded, outbox_drained, seller_settings, wallet_settings
from tests.support import as_member, as_seller, eventually, read_topic, running_app, unique


async def register_seller(seller: httpx.AsyncClient, seller_id: str) -> dict[str, Any]:
    response = await seller.post("/api/sellers", json={"sellerId": seller_id})
    assert response.status_code == 202, response.text
    body: dict[str, Any] = response.json()
    return body


async def state_of(seller: httpx.AsyncClient, reg: dict[str, Any]) -> str:
    url = f"/api/sellers/registrations/{reg['registrationId']}"
    return str((await seller.get(url, headers=as_seller(reg["sellerNo"]))).json()["state"])


async def lifecycle_types(infra: InfraSettings, seller_db: Database, seller_no: int) -> list[str]:
    await eventually(lambda: outbox_drained(seller_db), bool, timeout_s=20)
    events = decoded(await read_topic(infra, SELLER))
    return [e.type for e in events if e.key == str(seller_no) and e.type.startswith("SELLER_")]


async def register_product_once_catalog_knows(catalog: httpx.AsyncClient, seller_no: int) -> int:
    """Catalog answers CTG0005 until seller's SELLER_REGISTERED reached it; then 201."""
    body = {"sellerNo": seller_no, "productId": unique("sku"), "name": "새 판매자 상품", "price": "2500.00"}
    answers: list[tuple[int, str]] = []

    async def attempt() -> httpx.Response:
        response = await catalog.post("/api/products", json=body, headers=as_seller(seller_no))
        answers.append((response.status_code, response.json().get("code", "")))
        return response

    created = await eventually(attempt, lambda r: r.status_code == 201, timeout_s=30)
    assert set(answers[:-1]) <= {(409, "CTG0005")}  # before: "not registered (yet)", nothing else
    product_no: int = created.json()["productNo"]
    return product_no


async def shown(catalog: httpx.AsyncClient, product_no: int) -> list[bool]:
    """Whether each of catalog's three reads shows the product."""
    listed = (await catalog.get("/products", params={"productNoList": f"1,{product_no}"})).json()["productList"]
    one = await catalog.get(f"/products/{product_no}")
    page = (await catalog.get("/api/products", params={"after": product_no - 1, "limit": 1})).json()["productList"]
    return [
        product_no in [p["productNo"] for p in listed],
        one.status_code == 200,
        product_no in [p["productNo"] for p in page],
    ]


async def checkout(order: httpx.AsyncClient, *product_nos: int) -> httpx.Response:
    body = {"memberNo": 77, "productNoList": list(product_nos)}
    return await order.post("/api/checkout", json=body, headers=as_member(77))


async def test_a_seller_registered_at_seller_sells_at_catalog_a_moment_later(
    infra: InfraSettings,
    seller_schema: str,
    wallet_schema: str,
    seller_db: Database,
    catalog: httpx.AsyncClient,
    order: httpx.AsyncClient,
) -> None:
    async with (
        running_app(create_seller(seller_settings(infra))) as seller,
        running_app(create_wallet(wallet_settings(infra))),
    ):
        reg = await register_seller(seller, unique("sells"))
        product_no = await register_product_once_catalog_knows(catalog, reg["sellerNo"])
        await eventually(lambda: state_of(seller, reg), lambda s: s == "COMPLETED", timeout_s=20)
        assert await lifecycle_types(infra, seller_db, reg["sellerNo"]) == ["SELLER_REGISTERED"]
    assert await shown(catalog, product_no) == [True, True, True]
    sold = await checkout(order, product_no)
    assert sold.status_code == 201, sold.text


async def test_a_registration_wallet_refuses_takes_the_seller_s_products_off_sale_and_checkout_refuses_them(
    infra: InfraSettings,
    seller_schema: str,
    wallet_schema: str,
    seller_db: Database,
    catalog: httpx.AsyncClient,
    order: httpx.AsyncClient,
) -> None:
    async with running_app(create_seller(seller_settings(infra))) as seller:
        reg = await register_seller(seller, unique("refuse"))  # wallet is not running yet: the seller is live
        product_no = await register_product_once_catalog_knows(catalog, reg["sellerNo"])
        assert await shown(catalog, product_no) == [True, True, True]
        assert (await checkout(order, 1, product_no)).status_code == 201

        async with running_app(create_wallet(wallet_settings(infra, refuse_seller_id_pattern="^refuse-"))):
            await eventually(lambda: state_of(seller, reg), lambda s: s == "COMPENSATED", timeout_s=30)
        assert await lifecycle_types(infra, seller_db, reg["sellerNo"]) == [
            "SELLER_REGISTERED",
            "SELLER_DEREGISTERED",
        ]
    await eventually(lambda: shown(catalog, product_no), lambda s: s == [False, False, False], timeout_s=20)
    refused = await checkout(order, 1, product_no)
    assert (refused.status_code, refused.json()["code"]) == (400, "PEC0001")
    assert str(product_no) in refused.json()["message"]
    again = await catalog.post(
        "/api/products",
        json={"sellerNo": reg["sellerNo"], "productId": unique("sku"), "name": "n", "price": 1},
        headers=as_seller(reg["sellerNo"]),
    )
    assert (again.status_code, again.json()["code"]) == (409, "CTG0005")
