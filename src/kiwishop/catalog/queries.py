"""Catalog reads: products by id list, a page of every product, one product.

Every read leaves out products whose seller is not ACTIVE in catalog's ``sellers`` (kept from seller's
events by ``handlers.apply_seller_change``) — GONE, unknown, or a product without a sellerNo (nobody could
be paid for it).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, bindparam, select

from kiwishop.catalog.domain import CatalogError, Product, SellerState
from kiwishop.catalog.tables import products, sellers
from kiwishop.platform.db import Database
from kiwishop.platform.errors import AppError

_COLUMNS = (
    products.c.product_no,
    products.c.seller_no,
    products.c.product_id,
    products.c.name,
    products.c.price,
)
# Products on sale: their seller is ACTIVE (an inner join, so a NULL or unknown sellerNo is left out too).
_ON_SALE = products.join(
    sellers, and_(sellers.c.seller_no == products.c.seller_no, sellers.c.state == SellerState.ACTIVE)
)


# Products on sale among a list of numbers, ascending — the benchmark's replay sends this statement too.
PRODUCTS_BY_NO = (
    select(*_COLUMNS)
    .select_from(_ON_SALE)
    .where(products.c.product_no.in_(bindparam("product_nos", expanding=True)))
    .order_by(products.c.product_no)
)


def _product(row: Any) -> Product:
    return Product(
        product_no=row.product_no,
        seller_no=row.seller_no,
        product_id=row.product_id,
        name=row.name,
        price=row.price,
    )


async def find_products(db: Database, product_nos: list[int]) -> list[Product]:
    """Products on sale among the given ids, ascending product number; other ids are simply absent."""
    if not product_nos:
        return []
    async with db.engine.connect() as conn:
        rows = await conn.execute(PRODUCTS_BY_NO, {"product_nos": product_nos})
        return [_product(row) for row in rows]


async def list_products(db: Database, *, after: int, limit: int) -> tuple[list[Product], int | None]:
    """A page of the products on sale, ascending productNo, starting after ``after``; and the ``after`` of the
    next page (the page's last productNo), or None when this page is the last."""
    async with db.engine.connect() as conn:
        rows = await conn.execute(
            select(*_COLUMNS)
            .select_from(_ON_SALE)
            .where(products.c.product_no > after)
            .order_by(products.c.product_no)
            .limit(limit + 1)
        )
        found = [_product(row) for row in rows]
    page = found[:limit]
    return page, (page[-1].product_no if len(found) > limit else None)


async def get_product(db: Database, product_no: int) -> Product:
    """The product on sale with this number; CTG0001 (404) otherwise."""
    found = await find_products(db, [product_no])
    if not found:
        raise AppError(CatalogError.PRODUCT_NOT_FOUND)
    return found[0]
