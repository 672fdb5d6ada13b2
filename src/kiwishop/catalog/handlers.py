"""Catalog's writes: product registration (HTTP) and the effect of seller's lifecycle events; each owns
its unit of work (the seller-event effect runs inside the inbox's).

Catalog sells only for sellers it knows as ACTIVE (``sellers``, kept from seller's events): registration
refuses any other sellerNo, and the reads (``queries``) leave out products whose seller is not ACTIVE.
"""

from __future__ import annotations

import logging
from decimal import Decimal

from sqlalchemy import func, insert, select
from sqlalchemy.dialects.mysql import insert as mysql_insert
from sqlalchemy.exc import IntegrityError

from kiwishop.catalog.domain import (
    CatalogError,
    InvalidSellerEvent,
    Product,
    SellerChange,
    SellerState,
    parse_seller_event,
)
from kiwishop.catalog.tables import products, sellers
from kiwishop.platform.clock import utcnow
from kiwishop.platform.consumer import PermanentError
from kiwishop.platform.db import Database, UnitOfWork
from kiwishop.platform.envelope import Envelope
from kiwishop.platform.errors import AppError
from kiwishop.platform.ids import Snowflake

log = logging.getLogger("kiwishop.catalog")


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


async def on_seller_event(uow: UnitOfWork, envelope: Envelope) -> None:
    """SELLER_REGISTERED / SELLER_DEREGISTERED → catalog's ``sellers``. A malformed event is parked
    (PermanentError), never applied (the runner parks a version it does not accept before this runs)."""
    try:
        change = parse_seller_event(envelope.type, envelope.key, envelope.payload)
    except InvalidSellerEvent as exc:
        raise PermanentError(str(exc)) from exc
    await apply_seller_change(uow, change)


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
