"""Every service refuses a 5 MB body with 413 PAYLOAD_TOO_LARGE before it parses it, over real HTTP, whether
the body says its length (Content-Length) or streams (chunked), and nothing changes: the service's tables (or
the emulator's stores) hold what they held."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from kiwishop.catalog.app import SERVICE as CATALOG
from kiwishop.catalog.settings import CatalogSettings
from kiwishop.catalog_like.app import SERVICE as LIKE
from kiwishop.catalog_like.settings import CatalogLikeSettings
from kiwishop.catalog_review.app import SERVICE as REVIEW
from kiwishop.catalog_review.settings import CatalogReviewSettings
from kiwishop.hot_catalog.app import create_app as create_hot
from kiwishop.hot_catalog.settings import HotCatalogSettings
from kiwishop.order.app import SERVICE as ORDER
from kiwishop.order.settings import OrderSettings
from kiwishop.order_query.app import create_app as create_order_query
from kiwishop.order_query.settings import OrderQuerySettings
from kiwishop.platform.db import Database
from kiwishop.platform.migrations import migrate
from kiwishop.platform.settings import InfraSettings
from kiwishop.seller.app import SERVICE as SELLER
from kiwishop.seller.settings import SellerSettings
from kiwishop.toss_emulator.app import create_app as create_emulator
from kiwishop.toss_emulator.settings import TossEmulatorSettings
from kiwishop.wallet.app import SERVICE as WALLET
from kiwishop.wallet.settings import WalletSettings
from tests.support import dead_url, emulator_admin, eventually, served_app, unique

FIVE_MB = 5 * 1024 * 1024
CHUNK = 64 * 1024


@dataclass(frozen=True)
class Case:
    name: str
    path: str  # a route that takes a body (a read route where the service has none: the cap is for every route)
    body: dict[str, Any]  # the request's fields, padded to 5 MB with one more
    build: Callable[[InfraSettings, str], FastAPI]  # (infra, schema) -> app
    migrations: Any = ()
    seed: Any = ()
    # A count that is 0 once the service's start-up writes are done (they are not the request's): the state
    # is taken after it.
    started_sql: str | None = None


def _tagged(prefix: str) -> str:
    return unique(prefix)


CASES = [
    Case(
        "catalog", "/api/products", {"sellerNo": 1, "productId": "BIG", "name": "큰상품", "price": 1000},
        lambda infra, db: CATALOG.create_app(CatalogSettings(
            infra=infra, db_name=db, node_id=170, seller_topic=_tagged("bl-seller"), seller_group_id=_tagged("bl"),
        )),
        CATALOG.migrations, CATALOG.seed,
    ),
    Case(
        "catalog-like", "/api/catalog-likes/products/1/members/1", {},
        lambda infra, db: LIKE.create_app(CatalogLikeSettings(
            infra=infra, db_name=db, node_id=171, catalog_url=dead_url(), topic=_tagged("bl-like"),
        )),
        LIKE.migrations, LIKE.seed,
    ),
    Case(
        "catalog-review", "/api/product-reviews", {"productNo": 1, "memberNo": 1, "score": 5},
        lambda infra, db: REVIEW.create_app(CatalogReviewSettings(
            infra=infra, db_name=db, node_id=172, catalog_url=dead_url(), topic=_tagged("bl-review"),
        )),
        REVIEW.migrations, REVIEW.seed,
    ),
    Case(
        "seller", "/api/sellers", {"sellerId": "big-seller"},
        lambda infra, db: SELLER.create_app(SellerSettings(
            infra=infra, db_name=db, node_id=173, reply_group_id=_tagged("bl-seller-reply"),
        )),
        SELLER.migrations, SELLER.seed,
        started_sql="SELECT COUNT(*) FROM sellers WHERE announced_at IS NULL",  # the seed seller announced
    ),
    Case(
        "order", "/api/checkout", {"memberNo": 1, "productNoList": [1]},
        lambda infra, db: ORDER.create_app(OrderSettings(
            infra=infra, db_name=db, node_id=174, catalog_url=dead_url(), hot_catalog_url=dead_url(),
            toss_api_url=dead_url(), payment_topic=_tagged("bl-pay"), wallet_topic=_tagged("bl-wallet"),
            wallet_group_id=_tagged("bl-wallet-result"),
        )),
        ORDER.migrations,
    ),
    Case(
        "toss-emulator", "/emulator/payments", {"orderId": "big-order-0001", "amount": 1000, "orderName": "큰주문"},
        lambda infra, db: create_emulator(TossEmulatorSettings(node_id=175)),
    ),
    Case(
        "wallet", "/api/wallets/sellers/1", {},
        lambda infra, db: WALLET.create_app(WalletSettings(
            infra=infra, db_name=db, node_id=176, settlement_group_id=_tagged("bl-settle"),
            creation_group_id=_tagged("bl-create"),
        )),
        WALLET.migrations, WALLET.seed,
    ),
    Case(
        "hot-catalog", "/api/hot-products", {},
        lambda infra, db: create_hot(HotCatalogSettings(
            infra=infra, catalog_url=dead_url(), key_prefix=_tagged("bl-hot"), consumer_group=_tagged("bl-hot"),
            like_topic=_tagged("bl-hl"), review_topic=_tagged("bl-hr"), payment_topic=_tagged("bl-hp"),
        )),
    ),
    Case(
        "order-query", "/api/orders/members/1", {},
        lambda infra, db: create_order_query(OrderQuerySettings(
            infra=infra, order_url=dead_url(), key_prefix=_tagged("bl-oq"), consumer_group=_tagged("bl-oq"),
            payment_topic=_tagged("bl-oqp"),
        )),
    ),
]  # fmt: skip


def padded(body: dict[str, Any]) -> bytes:
    """``body`` as JSON with one more field that makes it 5 MB."""
    head = json.dumps({**body, "pad": ""}, ensure_ascii=False).encode()[:-2]
    return head + b'"' + b"a" * (FIVE_MB - len(head) - 2) + b'"}'


async def chunks(data: bytes) -> AsyncIterator[bytes]:
    for start in range(0, len(data), CHUNK):
        yield data[start : start + CHUNK]


async def _state(infra: InfraSettings, schema: str | None, client: httpx.AsyncClient) -> dict[str, Any]:
    """Every table's row count (or, for the emulator, its stores' sizes and counters)."""
    if schema is None:
        return dict((await client.get("/emulator/stats", headers=emulator_admin())).json())
    db = Database.connect(infra, schema)
    try:
        async with db.engine.connect() as conn:
            tables = (await conn.execute(sa.text("SHOW TABLES"))).scalars().all()
            count = "SELECT COUNT(*) FROM `{}`"  # rows written in the background (the relay's marks) don't count
            return {t: (await conn.execute(sa.text(count.format(t)))).scalar_one() for t in tables}
    finally:
        await db.close()


async def _count(infra: InfraSettings, schema: str, sql: str) -> int:
    db = Database.connect(infra, schema)
    try:
        async with db.engine.connect() as conn:
            return int((await conn.execute(sa.text(sql))).scalar_one())
    finally:
        await db.close()


def _assert_refused(response: httpx.Response, lang: str) -> None:
    assert response.status_code == 413, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["code"] == "PAYLOAD_TOO_LARGE"
    assert ("too large" in body["message"]) is (lang == "en"), body


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
async def test_a_5mb_body_is_refused_and_changes_nothing(infra: InfraSettings, case: Case) -> None:
    schema: str | None = None
    if case.migrations:
        schema = unique(f"bl_{case.name}").replace("-", "_")
        await migrate(infra, schema, case.migrations, case.seed)
    app = case.build(infra, schema or "")
    data = padded(case.body)
    headers = {"content-type": "application/json"}
    async with served_app(app) as url, httpx.AsyncClient(base_url=url, timeout=60) as client:
        schema_of_state = schema if case.migrations else None
        if case.started_sql and schema:
            await eventually(lambda: _count(infra, schema, case.started_sql or ""), lambda n: n == 0, timeout_s=30)
        before = await _state(infra, schema_of_state, client)

        response = await client.post(case.path, content=data, headers={**headers, "accept-language": "en"})
        _assert_refused(response, "en")
        assert response.headers["x-request-id"]
        response = await client.post(case.path, content=chunks(data), headers=headers)
        assert "content-length" not in response.request.headers
        _assert_refused(response, "ko")

        assert await _state(infra, schema_of_state, client) == before
        # every operation that takes a body documents the 413, with the error shape
        document = (await client.get("/openapi.json")).json()
        for item in document["paths"].values():
            for operation in item.values():
                if "requestBody" in operation:
                    assert operation["responses"]["413"]["content"]["application/json"]["schema"] == {
                        "$ref": "#/components/schemas/ErrorOut"
                    }
