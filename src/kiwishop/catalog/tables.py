from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, MetaData, Numeric, String, Table

metadata = MetaData()

products = Table(
    "products",
    metadata,
    Column("product_no", BigInteger, primary_key=True, autoincrement=False),
    Column("seller_no", BigInteger),
    Column("product_id", String(255), nullable=False),
    Column("name", String(50), nullable=False),
    Column("price", Numeric(12, 2, asdecimal=True), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
)
