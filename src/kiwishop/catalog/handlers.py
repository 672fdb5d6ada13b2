"""Catalog use cases; each owns its unit of work."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from kiwishop.catalog.domain import CatalogError, Product
from kiwishop.catalog.tables import products
from kiwishop.platform.db import Database
from kiwishop.platform.errors import AppError
from kiwishop.platform.ids import Snowflake

_COLUMNS = (
    products.c.product_no,
    products.c.seller_no,
    products.c.product_id,
    products.c.name,
    products.c.price,
)


async def find_products(db: Database, product_nos: list[int]) -> list[Product]:
    """Products for the given ids, ascending product number; unknown ids are simply absent."""
    if not product_nos:
        return []
    async with db.engine.connect() as conn:
        rows = await conn.execute(
            select(*_COLUMNS).where(products.c.product_no.in_(product_nos)).order_by(products.c.product_no)
        )
        return [Product(*row) for row in rows]


async def list_products(db: Database, *, after: int, limit: int) -> list[Product]:
    """A page of every product, ascending productNo, starting after ``after``."""
    async with db.engine.connect() as conn:
        rows = await conn.execute(
            select(*_COLUMNS).where(products.c.product_no > after).order_by(products.c.product_no).limit(limit)
        )
        return [Product(*row) for row in rows]


async def get_product(db: Database, product_no: int) -> Product:
    found = await find_products(db, [product_no])
    if not found:
        raise AppError(CatalogError.PRODUCT_NOT_FOUND)
    return found[0]


async def register_product(
    db: Database, ids: Snowflake, *, seller_no: int, product_id: str, name: str, price: Decimal
) -> Product:
    product = Product(ids.next_id(), seller_no, product_id, name, price.quantize(Decimal("0.01")))
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    async with db.uow() as uow:
        try:
            await uow.conn.execute(
                insert(products).values(
                    product_no=product.product_no,
                    seller_no=seller_no,
                    product_id=product_id,
                    name=name,
                    price=product.price,
                    created_at=now,
                    updated_at=now,
                )
            )
        except IntegrityError as exc:
            raise AppError(CatalogError.DUPLICATE_PRODUCT_ID, productId=product_id) from exc
        await uow.commit()
    return product
