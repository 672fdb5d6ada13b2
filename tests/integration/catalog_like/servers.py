"""Real catalog over real HTTP for the like, review and hot-catalog tests (shared by their conftests).

The services under test call catalog with their own HTTP client and ``catalog_url``, exactly as in
production, so catalog listens on a real port (``tests.support.served_app``); ``dead_url()`` is a loopback
address nobody listens on (catalog down).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from decimal import Decimal

import httpx

from kiwishop.catalog.app import SERVICE as CATALOG
from kiwishop.catalog.app import create_app as create_catalog
from kiwishop.catalog.settings import CatalogSettings
from kiwishop.platform.migrations import migrate
from kiwishop.platform.settings import InfraSettings
from tests.support import as_seller, dead_url, served_app, unique

__all__ = ["catalog_server", "dead_url", "register_product"]


@contextlib.asynccontextmanager
async def catalog_server(infra: InfraSettings, db_name: str = "it_social_catalog") -> AsyncIterator[str]:
    """Catalog with its seed: products are registered for seller 1, ACTIVE there from the seed. Seller events
    come from a topic of this server's own (nobody publishes there)."""
    tag = unique("social-catalog")
    settings = CatalogSettings(
        infra=infra, db_name=db_name, node_id=111, seller_topic=f"{tag}-seller", seller_group_id=f"{tag}-group"
    )
    await migrate(infra, db_name, CATALOG.migrations, CATALOG.seed)
    async with served_app(create_catalog(settings)) as url:
        yield url


async def register_product(catalog_url: str, price: str = "1000.00") -> int:
    """A fresh product in catalog (tests isolate by product number), registered by seller 1 itself."""
    async with httpx.AsyncClient(base_url=catalog_url) as client:
        response = await client.post(
            "/api/products",
            json={"sellerNo": 1, "productId": unique("sku"), "name": unique("p")[:20], "price": str(Decimal(price))},
            headers=as_seller(1),
        )
    assert response.status_code == 201, response.text
    product_no: int = response.json()["productNo"]
    return product_no
