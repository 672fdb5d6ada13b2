"""Catalog-like's tables as its code reads and writes them; ``tests/integration/schemas`` checks them against
``migrations.py``."""

from __future__ import annotations

from sqlalchemy import BigInteger, CheckConstraint, Column, Index, MetaData, Table, text
from sqlalchemy.dialects.mysql import DATETIME

from kiwishop.platform.outbox import add_outbox_table

metadata = MetaData()

product_likes = Table(
    "product_likes",
    metadata,
    Column("product_like_no", BigInteger, primary_key=True, autoincrement=False),
    Column("product_no", BigInteger, nullable=False),
    Column("member_no", BigInteger, nullable=False),
    Column("created_at", DATETIME(fsp=3), nullable=False),
    Column("updated_at", DATETIME(fsp=3)),
    Index("idx_product_no_member_no", "product_no", "member_no", unique=True),  # one like per member (C3)
)

product_like_counts = Table(
    "product_like_counts",
    metadata,
    Column("product_no", BigInteger, primary_key=True, autoincrement=False),
    Column("like_count", BigInteger, nullable=False, server_default=text("0")),
    Column("version", BigInteger, nullable=False, server_default=text("0")),
    Column("created_at", DATETIME(fsp=3), nullable=False),
    Column("updated_at", DATETIME(fsp=3), nullable=False),
    CheckConstraint("like_count >= 0", name="ck_like_count_not_negative"),
)

outbox = add_outbox_table(metadata)
