"""Seller reads: a registration saga's state (the ``Location`` of a registration), one seller — and how a
registration row reads, which the SQL of the writes (``repository``) shares."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from kiwishop.platform.db import Database
from kiwishop.platform.errors import AppError
from kiwishop.seller.domain import Registration, Seller, SellerError
from kiwishop.seller.tables import seller_registrations, sellers

REGISTRATION_COLUMNS = (
    seller_registrations.c.registration_id,
    seller_registrations.c.seller_id,
    seller_registrations.c.seller_no,
    seller_registrations.c.state,
    seller_registrations.c.attempts,
    seller_registrations.c.last_error,
)
SELLER_COLUMNS = (sellers.c.seller_no, sellers.c.seller_id, sellers.c.is_deleted, sellers.c.created_at)


def registration_of(row: Any) -> Registration:
    return Registration(
        registration_id=row.registration_id,
        seller_id=row.seller_id,
        seller_no=row.seller_no,
        state=row.state,
        attempts=row.attempts,
        last_error=row.last_error,
    )


def seller_of(row: Any) -> Seller:
    return Seller(
        seller_no=row.seller_no, seller_id=row.seller_id, is_deleted=bool(row.is_deleted), created_at=row.created_at
    )


async def get_registration(db: Database, registration_id: int) -> Registration:
    """The registration saga; SLR0004 (404) when there is none."""
    async with db.engine.connect() as conn:
        row = (
            await conn.execute(
                select(*REGISTRATION_COLUMNS).where(seller_registrations.c.registration_id == registration_id)
            )
        ).first()
    if row is None:
        raise AppError(SellerError.REGISTRATION_NOT_FOUND)
    return registration_of(row)


async def get_seller(db: Database, seller_no: int) -> Seller:
    """The seller, deleted or not; SLR0003 (404) when there is none."""
    async with db.engine.connect() as conn:
        row = (await conn.execute(select(*SELLER_COLUMNS).where(sellers.c.seller_no == seller_no))).first()
    if row is None:
        raise AppError(SellerError.SELLER_NOT_FOUND)
    return seller_of(row)
