"""Catalog's tables as its code reads and writes them; ``tests/integration/schemas`` checks them against
``migrations.py``."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, Enum, Index, MetaData, Numeric, String, Table
from sqlalchemy.dialects.mysql import DATETIME

from kiwishop.catalog.domain import SellerState
from kiwishop.platform.inbox import add_inbox_table

metadata = MetaData()

products = Table(
    "products",
    metadata,
    Column("product_no", BigInteger, primary_key=True, autoincrement=False),
    Column("seller_no", BigInteger),
    Column("product_id", String(255), nullable=False),
    Column("name", String(50), nullable=False),
    Column("price", Numeric(12, 2, asdecimal=True), nullable=False),
    Column("created_at", DateTime, nullable=False),  # whole seconds (DATETIME)
    Column("updated_at", DateTime, nullable=False),
    Index("uk_products_seller_product_id", "seller_no", "product_id", unique=True),
)

# Catalog's own copy of which sellers may sell, kept by the consumer of seller's lifecycle events.
sellers = Table(
    "sellers",
    metadata,
    Column("seller_no", BigInteger, primary_key=True, autoincrement=False),
    Column("seller_id", String(128), nullable=False),
    Column(
        "state",
        Enum(SellerState, name="catalog_seller_state", values_callable=lambda e: [m.value for m in e]),
        nullable=False,
    ),
    Column("updated_at", DATETIME(fsp=3), nullable=False),
)

processed_messages = add_inbox_table(metadata)
