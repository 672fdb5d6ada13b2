"""Catalog-review's tables as its code reads and writes them; ``tests/integration/schemas`` checks them
against ``migrations.py``."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, CheckConstraint, Column, Index, MetaData, String, Table, text
from sqlalchemy.dialects.mysql import DATETIME, TINYINT

from kiwishop.platform.outbox import add_outbox_table

metadata = MetaData()

product_reviews = Table(
    "product_reviews",
    metadata,
    Column("product_review_no", BigInteger, primary_key=True, autoincrement=False),
    Column("product_no", BigInteger, nullable=False),
    Column("member_no", BigInteger, nullable=False),
    Column("title", String(100), nullable=False),
    Column("content", String(3000), nullable=False),
    Column("star_rating", TINYINT, nullable=False),
    Column("is_deleted", Boolean(create_constraint=False), nullable=False, server_default=text("0")),
    Column("created_at", DATETIME(fsp=3), nullable=False),
    Column("updated_at", DATETIME(fsp=3), nullable=False),
    Index("idx_product_reviews_page", "product_no", "is_deleted", "product_review_no"),
    Index("idx_product_reviews_member", "member_no"),
    CheckConstraint("star_rating BETWEEN 1 AND 5", name="ck_star_rating"),
)

product_review_counts = Table(
    "product_review_counts",
    metadata,
    Column("product_no", BigInteger, primary_key=True, autoincrement=False),
    Column("review_count", BigInteger, nullable=False, server_default=text("0")),
    Column("review_star_rating_sum", BigInteger, nullable=False, server_default=text("0")),
    Column("version", BigInteger, nullable=False, server_default=text("0")),
    Column("created_at", DATETIME(fsp=3), nullable=False),
    Column("updated_at", DATETIME(fsp=3), nullable=False),
    CheckConstraint("review_count >= 0 AND review_star_rating_sum >= 0", name="ck_review_totals_not_negative"),
)

outbox = add_outbox_table(metadata)
