from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Enum,
    Integer,
    MetaData,
    Numeric,
    SmallInteger,
    String,
    Table,
)

metadata = MetaData()

STATUSES = ("NOT_STARTED", "EXECUTING", "SUCCESS", "FAILURE", "UNKNOWN", "QUARANTINED")

payment_events = Table(
    "payment_events",
    metadata,
    Column("payment_event_no", BigInteger, primary_key=True, autoincrement=False),
    Column("member_no", BigInteger, nullable=False),
    Column("is_payment_done", Boolean, nullable=False),
    Column("is_wallet_done", Boolean, nullable=False),
    Column("payment_key", String(200)),
    Column("order_id", String(64), nullable=False),
    Column("type", Enum("NORMAL", name="payment_type"), nullable=False),
    Column("order_name", String(255), nullable=False),
    Column("method", Enum("CARD", name="payment_method")),
    Column("total_amount", Numeric(12, 2, asdecimal=True), nullable=False),
    Column("approved_at", DateTime),
    Column("failure_code", String(100)),
    Column("failure_message", String(500)),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Column("confirm_event_id", BigInteger),
    Column("confirm_started_at", DateTime),
    Column("in_doubt_since", DateTime),
    Column("recovery_attempts", Integer, nullable=False),
    Column("next_attempt_at", DateTime),
    Column("settle_check_at", DateTime),
    Column("republish_count", Integer, nullable=False),
)

payment_orders = Table(
    "payment_orders",
    metadata,
    Column("payment_order_no", BigInteger, primary_key=True, autoincrement=False),
    Column("payment_event_no", BigInteger, nullable=False),
    Column("product_no", BigInteger, nullable=False),
    Column("seller_no", BigInteger, nullable=False),
    Column("order_id", String(64), nullable=False),
    Column("product_name", String(100), nullable=False),
    Column("amount", Numeric(12, 2, asdecimal=True), nullable=False),
    Column("payment_order_status", Enum(*STATUSES, name="payment_order_status"), nullable=False),
    Column("failed_count", SmallInteger, nullable=False),
    Column("threshold", SmallInteger, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
)

payment_order_histories = Table(
    "payment_order_histories",
    metadata,
    Column("payment_order_history_no", BigInteger, primary_key=True, autoincrement=False),
    Column("payment_order_no", BigInteger, nullable=False),
    Column("previous_status", Enum(*STATUSES, name="history_previous")),
    Column("new_status", Enum(*STATUSES, name="history_new")),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Column("changed_by", String(255)),
    Column("reason", String(255)),
)
