"""Wallet's tables as its code reads and writes them; ``tests/integration/schemas`` checks them against
``migrations.py``."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Enum, Index, MetaData, Numeric, String, Table, text
from sqlalchemy.dialects.mysql import DATETIME

from kiwishop.platform.inbox import add_inbox_table
from kiwishop.platform.outbox import add_outbox_table

metadata = MetaData()

wallets = Table(
    "wallets",
    metadata,
    Column("wallet_no", BigInteger, primary_key=True, autoincrement=False),
    Column("seller_no", BigInteger, nullable=False),
    Column("balance", Numeric(38, 2, asdecimal=True), nullable=False, server_default=text("0.00")),
    Column("version", BigInteger, nullable=False, server_default=text("0")),
    Column("created_at", DATETIME(fsp=3), nullable=False),
    Column("updated_at", DATETIME(fsp=3), nullable=False),
    Index("uk_wallets_seller_no", "seller_no", unique=True),
)

wallet_transactions = Table(
    "wallet_transactions",
    metadata,
    Column("wallet_transaction_no", BigInteger, primary_key=True, autoincrement=False),
    Column("wallet_no", BigInteger, nullable=False),
    Column("amount", Numeric(38, 2, asdecimal=True), nullable=False),
    Column("type", Enum("CREDIT", "DEBIT", name="wallet_transaction_type"), nullable=False),
    Column("reference_id", BigInteger, nullable=False),
    Column("reference_type", String(58), nullable=False),
    Column("order_id", String(255)),
    Column("idempotency_key", String(255), nullable=False),
    Column("created_at", DATETIME(fsp=3), nullable=False),
    Column("updated_at", DATETIME(fsp=3), nullable=False),
    Index("uk_wallet_transactions_idempotency_key", "idempotency_key", unique=True),  # no 2nd credit (W4) or debit
    Index("idx_wallet_transactions_wallet", "wallet_no", "wallet_transaction_no"),
    Index("idx_wallet_transactions_order", "order_id"),
)

held_settlements = Table(
    "held_settlements",
    metadata,
    Column("idempotency_key", String(255), primary_key=True),
    Column("order_id", String(255), nullable=False),
    Column("payment_order_no", BigInteger, nullable=False),
    Column("seller_no", BigInteger, nullable=False),
    Column("amount", Numeric(38, 2, asdecimal=True), nullable=False),
    Column("event_id", BigInteger, nullable=False),
    Column("created_at", DATETIME(fsp=3), nullable=False),
    Column("released_at", DATETIME(fsp=3)),
    Column("canceled_at", DATETIME(fsp=3)),  # released by a cancel: never credited
    Index("idx_held_settlements_seller", "seller_no", "released_at"),
    Index("idx_held_settlements_open", "released_at"),
)

outbox = add_outbox_table(metadata)
processed_messages = add_inbox_table(metadata)
