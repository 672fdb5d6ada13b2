from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, MetaData, Table

metadata = MetaData()

product_likes = Table(
    "product_likes",
    metadata,
    Column("product_like_no", BigInteger, primary_key=True, autoincrement=False),
    Column("product_no", BigInteger, nullable=False),
    Column("member_no", BigInteger, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime),
)

product_like_counts = Table(
    "product_like_counts",
    metadata,
    Column("product_no", BigInteger, primary_key=True, autoincrement=False),
    Column("like_count", BigInteger, nullable=False),
    Column("version", BigInteger, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
)
