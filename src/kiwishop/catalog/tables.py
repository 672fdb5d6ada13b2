from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, Enum, MetaData, Numeric, String, Table

from kiwishop.catalog.domain import SellerState

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
    Column("updated_at", DateTime, nullable=False),
)
