"""Identity's tables as its code reads and writes them; ``tests/integration/schemas`` checks them against
``migrations.py``."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Enum, Index, MetaData, String, Table
from sqlalchemy.dialects.mysql import DATETIME

from kiwishop.identity.domain import AccountRole

metadata = MetaData()

accounts = Table(
    "accounts",
    metadata,
    Column("account_no", BigInteger, primary_key=True, autoincrement=False),
    Column("login_id", String(64), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column(
        "role",
        Enum(AccountRole, name="identity_account_role", values_callable=lambda e: [m.value for m in e]),
        nullable=False,
    ),
    Column("member_no", BigInteger),
    Column("seller_no", BigInteger),
    Column("created_at", DATETIME(fsp=3), nullable=False),
    Index("uk_accounts_login_id", "login_id", unique=True),
    Index("ix_accounts_member_no", "member_no"),
    Index("ix_accounts_seller_no", "seller_no"),
)
