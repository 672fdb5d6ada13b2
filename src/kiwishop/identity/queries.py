"""Identity's reads: an account by login id (for a login)."""

from __future__ import annotations

from sqlalchemy import select

from kiwishop.identity.domain import Account
from kiwishop.identity.tables import accounts
from kiwishop.platform.db import Database


async def find_account(db: Database, login_id: str) -> Account | None:
    async with db.engine.connect() as conn:
        row = (await conn.execute(select(accounts).where(accounts.c.login_id == login_id))).first()
    if row is None:
        return None
    return Account(
        account_no=row.account_no,
        login_id=row.login_id,
        password_hash=row.password_hash,
        role=row.role,
        member_no=row.member_no,
        seller_no=row.seller_no,
    )
