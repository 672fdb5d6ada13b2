"""Wallet's reads: a seller's wallet and its transactions (the API), and what the held-settlement sweeper
looks at (sellers whose held lines can be released now, what is still held)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select, text

from kiwishop.platform.db import Database
from kiwishop.platform.errors import AppError
from kiwishop.wallet.domain import PageRequest, Wallet, WalletError, WalletTransaction
from kiwishop.wallet.tables import wallet_transactions as txs
from kiwishop.wallet.tables import wallets


async def get_wallet(db: Database, seller_no: int) -> Wallet:
    async with db.engine.connect() as conn:
        row = (
            await conn.execute(
                select(wallets.c.wallet_no, wallets.c.seller_no, wallets.c.balance, wallets.c.version).where(
                    wallets.c.seller_no == seller_no
                )
            )
        ).first()
    if row is None:
        raise AppError(WalletError.WALLET_NOT_FOUND)
    return Wallet(wallet_no=row.wallet_no, seller_no=row.seller_no, balance=row.balance, version=row.version)


async def list_transactions(
    db: Database, seller_no: int, page: PageRequest
) -> tuple[list[WalletTransaction], int | None]:
    """A page of the seller's wallet transactions, newest first, and the cursor of the next page (or None)."""
    wallet = await get_wallet(db, seller_no)
    query = (
        select(
            txs.c.wallet_transaction_no,
            txs.c.wallet_no,
            txs.c.amount,
            txs.c.type,
            txs.c.reference_type,
            txs.c.reference_id,
            txs.c.order_id,
            txs.c.created_at,
        )
        .where(txs.c.wallet_no == wallet.wallet_no)
        .order_by(txs.c.wallet_transaction_no.desc())
        .limit(page.limit + 1)
    )
    if page.before is not None:
        query = query.where(txs.c.wallet_transaction_no < page.before)
    async with db.engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    items = [_transaction(row) for row in rows[: page.limit]]
    next_cursor = items[-1].wallet_transaction_no if len(rows) > page.limit else None
    return items, next_cursor


def _transaction(row: Any) -> WalletTransaction:
    return WalletTransaction(
        wallet_transaction_no=row.wallet_transaction_no,
        wallet_no=row.wallet_no,
        amount=row.amount,
        type=row.type,
        reference_type=row.reference_type,
        reference_id=row.reference_id,
        order_id=row.order_id,
        created_at=row.created_at,
    )


SELLERS_TO_RELEASE = text(
    "SELECT DISTINCT h.seller_no FROM held_settlements h JOIN wallets w ON w.seller_no = h.seller_no"
    " WHERE h.released_at IS NULL LIMIT :limit"
)
OPEN_HOLDS = text("SELECT COUNT(*), COALESCE(SUM(amount), 0) FROM held_settlements WHERE released_at IS NULL")


async def sellers_to_release(db: Database, limit: int) -> list[int]:
    """Up to ``limit`` sellers with held lines and a wallet now."""
    async with db.engine.connect() as conn:
        return [int(r.seller_no) for r in await conn.execute(SELLERS_TO_RELEASE, {"limit": limit})]


async def open_holds(db: Database) -> tuple[int, Decimal]:
    """How many lines are held, and their amount."""
    async with db.engine.connect() as conn:
        count, amount = (await conn.execute(OPEN_HOLDS)).one()
    return int(count), Decimal(amount)
