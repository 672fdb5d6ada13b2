from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, DateTime, MetaData, SmallInteger, String, Table

metadata = MetaData()

product_reviews = Table(
    "product_reviews",
    metadata,
    Column("product_review_no", BigInteger, primary_key=True, autoincrement=False),
    Column("product_no", BigInteger, nullable=False),
    Column("member_no", BigInteger, nullable=False),
    Column("title", String(100), nullable=False),
    Column("content", String(3000), nullable=False),
    Column("star_rating", SmallInteger, nullable=False),
    Column("is_deleted", Boolean(create_constraint=False), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
)

product_review_counts = Table(
    "product_review_counts",
    metadata,
    Column("product_no", BigInteger, primary_key=True, autoincrement=False),
    Column("review_count", BigInteger, nullable=False),
    Column("review_star_rating_sum", BigInteger, nullable=False),
    Column("version", BigInteger, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
)
