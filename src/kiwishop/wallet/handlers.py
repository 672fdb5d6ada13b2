"""Wallet read use cases."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

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
