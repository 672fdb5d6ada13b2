"""List parameters are capped: productNoList takes at most 50 ids on every path that takes it (catalog's
``GET /products``, order's ``POST /api/checkout`` and its shop page ``GET /``); one more is a 400, nothing read
or written for it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from kiwishop.catalog.app import SERVICE as CATALOG
from kiwishop.catalog.settings import CatalogSettings
from kiwishop.platform.migrations import migrate
from kiwishop.platform.settings import InfraSettings
from tests.support import served_app, unique

FIFTY = ",".join(str(n) for n in range(1, 51))
FIFTY_ONE = ",".join(str(n) for n in range(1, 52))


@pytest.fixture
async def catalog(infra: InfraSettings) -> AsyncIterator[httpx.AsyncClient]:
    schema = unique("lc_catalog").replace("-", "_")
    await migrate(infra, schema, CATALOG.migrations, CATALOG.seed)
    tag = unique("lc")
    settings = CatalogSettings(
        infra=infra, db_name=schema, node_id=177, seller_topic=f"{tag}-seller", seller_group_id=tag
    )
    async with served_app(CATALOG.create_app(settings)) as url, httpx.AsyncClient(base_url=url) as client:
        yield client


async def test_catalog_looks_up_at_most_50_products(catalog: httpx.AsyncClient) -> None:
    found = await catalog.get("/products", params={"productNoList": FIFTY})
    assert found.status_code == 200
    assert [p["productNo"] for p in found.json()["productList"]] == [1, 2, 3]
    for params in ({"productNoList": FIFTY_ONE}, [("productNoList", str(n)) for n in range(1, 52)]):
        refused = await catalog.get("/products", params=params, headers={"Accept-Language": "en"})
        assert refused.status_code == 400
        assert refused.json() == {"code": "CTG0004", "message": "At most 50 products can be looked up at once."}
    repeated = await catalog.get("/products", params={"productNoList": ",".join(["1"] * 60)})
    assert repeated.status_code == 200  # a set: 60 times product 1 is one id
