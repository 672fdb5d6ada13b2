"""Seller's tables as its code reads and writes them; ``tests/integration/schemas`` checks them against
``migrations.py``."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Computed, Enum, Index, Integer, MetaData, String, Table, text
from sqlalchemy.dialects.mysql import DATETIME

from kiwishop.platform.inbox import add_inbox_table
from kiwishop.platform.outbox import add_outbox_table
from kiwishop.seller.domain import RegistrationState

metadata = MetaData()

sellers = Table(
    "sellers",
    metadata,
    Column("seller_no", BigInteger, primary_key=True, autoincrement=False),
    Column("seller_id", String(128), nullable=False),
    Column("is_deleted", Boolean, nullable=False, server_default=text("0")),
    Column("created_at", DATETIME(fsp=3), nullable=False),
    Column("updated_at", DATETIME(fsp=3), nullable=False),
    # the sellerId while the seller is not deleted, else NULL: its unique key keeps live sellerIds unique
    Column("active_seller_id", String(128), Computed("IF(is_deleted = 0, seller_id, NULL)", persisted=True)),
    Column("announced_at", DATETIME(fsp=3)),  # when the seller's latest lifecycle event was written; NULL: never
    Index("uk_sellers_active_seller_id", "active_seller_id", unique=True),
    Index("idx_sellers_seller_id", "seller_id"),
    Index("idx_sellers_announced_at", "announced_at"),
)

seller_registrations = Table(
    "seller_registrations",
    metadata,
    Column("registration_id", BigInteger, primary_key=True, autoincrement=False),
    Column("seller_no", BigInteger, nullable=False),
    Column("seller_id", String(128), nullable=False),
    Column(
        "state",
        Enum(RegistrationState, name="registration_state", values_callable=lambda e: [m.value for m in e]),
        nullable=False,
    ),
    Column("attempts", Integer, nullable=False, server_default=text("1")),
    Column("last_error", String(500)),
    Column("next_attempt_at", DATETIME(fsp=3), nullable=False),
    Column("version", Integer, nullable=False, server_default=text("0")),
    Column("created_at", DATETIME(fsp=3), nullable=False),
    Column("updated_at", DATETIME(fsp=3), nullable=False),
    Index("idx_seller_registrations_due", "state", "next_attempt_at"),
    Index("idx_seller_registrations_seller", "seller_no"),
)

outbox = add_outbox_table(metadata)
processed_messages = add_inbox_table(metadata)
