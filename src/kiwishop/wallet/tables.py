from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, Enum, MetaData, Numeric, String, Table

metadata = MetaData()

wallets = Table(
    "wallets",
    metadata,
    Column("wallet_no", BigInteger, primary_key=True, autoincrement=False),
    Column("seller_no", BigInteger, nullable=False),
    Column("balance", Numeric(38, 2, asdecimal=True), nullable=False),
    Column("version", BigInteger, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
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
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
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
    Column("created_at", DateTime, nullable=False),
    Column("released_at", DateTime),
)
