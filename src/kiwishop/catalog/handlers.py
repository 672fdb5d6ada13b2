"""Catalog use cases; each owns its unit of work (the seller-event effect runs inside the inbox's).

Catalog sells only for sellers it knows as ACTIVE (``sellers``, kept from seller's events): registration
refuses any other sellerNo, and every read leaves out products whose seller is not ACTIVE here — GONE,
unknown, or a product without a sellerNo (nobody could be paid for it).
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, func, insert, select
from sqlalchemy.dialects.mysql import insert as mysql_insert
from sqlalchemy.exc import IntegrityError

from kiwishop.catalog.domain import CatalogError, Product, SellerChange, SellerState
from kiwishop.catalog.tables import products, sellers
from kiwishop.platform.clock import utcnow
from kiwishop.platform.db import Database, UnitOfWork
from kiwishop.platform.errors import AppError
from kiwishop.platform.ids import Snowflake

log = logging.getLogger("kiwishop.catalog")

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
        rows = await conn.execute(
            select(*_COLUMNS)
            .select_from(_ON_SALE)
            .where(products.c.product_no.in_(product_nos))
            .order_by(products.c.product_no)
        )
        return [_product(row) for row in rows]


async def list_products(db: Database, *, after: int, limit: int) -> list[Product]:
    """A page of the products on sale, ascending productNo, starting after ``after``."""
    async with db.engine.connect() as conn:
        rows = await conn.execute(
            select(*_COLUMNS)
            .select_from(_ON_SALE)
            .where(products.c.product_no > after)
            .order_by(products.c.product_no)
            .limit(limit)
        )
        return [_product(row) for row in rows]


async def get_product(db: Database, product_no: int) -> Product:
    found = await find_products(db, [product_no])
    if not found:
        raise AppError(CatalogError.PRODUCT_NOT_FOUND)
    return found[0]


async def _seller_is_active(uow: UnitOfWork, seller_no: int) -> bool:
    state = (await uow.conn.execute(select(sellers.c.state).where(sellers.c.seller_no == seller_no))).scalar()
    return state is SellerState.ACTIVE


async def register_product(
    db: Database, ids: Snowflake, *, seller_no: int, product_id: str, name: str, price: Decimal
) -> Product:
    """The product, for a seller catalog knows as ACTIVE (else CTG0005, nothing written)."""
    product = Product(
        product_no=ids.next_id(),
        seller_no=seller_no,
        product_id=product_id,
        name=name,
        price=price.quantize(Decimal("0.01")),
    )
    now = utcnow().replace(microsecond=0)
    async with db.uow() as uow:
        if not await _seller_is_active(uow, seller_no):
            raise AppError(CatalogError.SELLER_NOT_REGISTERED, sellerNo=seller_no)
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


async def apply_seller_change(uow: UnitOfWork, change: SellerChange) -> None:
    """ACTIVE for a sellerNo not seen yet; GONE always wins and stays (a late REGISTERED changes nothing)."""
    upsert = mysql_insert(sellers).values(
        seller_no=change.seller_no, seller_id=change.seller_id, state=change.state, updated_at=utcnow()
    )
    if change.state is SellerState.GONE:  # updated_at first: MySQL assigns left to right, seeing earlier ones
        already_gone = sellers.c.state == SellerState.GONE
        statement = upsert.on_duplicate_key_update(
            [
                ("updated_at", func.if_(already_gone, sellers.c.updated_at, upsert.inserted.updated_at)),
                ("state", upsert.inserted.state),
            ]
        )
    else:
        statement = upsert.on_duplicate_key_update(seller_no=sellers.c.seller_no)  # known already: no change
    await uow.conn.execute(statement)
    log.info("seller %d is %s", change.seller_no, change.state)
