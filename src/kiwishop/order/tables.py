"""Order's tables as its code reads and writes them; ``tests/integration/schemas`` checks them against
``migrations.py``."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Enum,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    text,
)
from sqlalchemy.dialects.mysql import DATETIME, TINYINT

from kiwishop.platform.inbox import add_inbox_table
from kiwishop.platform.outbox import add_outbox_table

metadata = MetaData()

STATUSES = ("NOT_STARTED", "EXECUTING", "SUCCESS", "FAILURE", "UNKNOWN", "QUARANTINED", "CANCELED")
CANCEL_STATUSES = ("EXECUTING", "UNKNOWN", "DONE", "FAILED")

payment_events = Table(
    "payment_events",
    metadata,
    Column("payment_event_no", BigInteger, primary_key=True, autoincrement=False),
    Column("member_no", BigInteger, nullable=False),
    Column("is_payment_done", Boolean, nullable=False, server_default=text("0")),
    Column("is_wallet_done", Boolean, nullable=False, server_default=text("0")),
    Column("payment_key", String(200)),
    Column("order_id", String(64), nullable=False),
    Column("type", Enum("NORMAL", name="payment_type"), nullable=False),
    Column("order_name", String(255), nullable=False),
    Column("method", Enum("CARD", name="payment_method")),
    Column("total_amount", Numeric(12, 2, asdecimal=True), nullable=False),
    Column("approved_at", DateTime),  # whole seconds (DATETIME), as the PSP reports it
    Column("failure_code", String(100)),
    Column("failure_message", String(500)),
    Column("created_at", DATETIME(fsp=3), nullable=False),
    Column("updated_at", DATETIME(fsp=3), nullable=False),
    Column("confirm_event_id", BigInteger),
    Column("confirm_started_at", DATETIME(fsp=3)),
    Column("in_doubt_since", DATETIME(fsp=3)),
    Column("recovery_attempts", Integer, nullable=False, server_default=text("0")),
    Column("next_attempt_at", DATETIME(fsp=3)),
    Column("settle_check_at", DATETIME(fsp=3)),
    Column("republish_count", Integer, nullable=False, server_default=text("0")),
    Column("pending_payment_key", String(200)),
    Index("uk_payment_events_order_id", "order_id", unique=True),
    Index("uk_payment_events_payment_key", "payment_key", unique=True),
    Index("idx_payment_events_member", "member_no", "is_payment_done", "payment_event_no"),
    Index("idx_payment_events_due", "next_attempt_at"),
    Index("idx_payment_events_settle", "settle_check_at"),
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
    Column(
        "payment_order_status",
        Enum(*STATUSES, name="payment_order_status"),
        nullable=False,
        server_default="NOT_STARTED",
    ),
    Column("failed_count", TINYINT, nullable=False, server_default=text("0")),
    Column("threshold", TINYINT, nullable=False, server_default=text("5")),
    Column("created_at", DATETIME(fsp=3), nullable=False),
    Column("updated_at", DATETIME(fsp=3), nullable=False),
    Index("idx_payment_orders_order_id", "order_id"),
    Index("idx_payment_orders_event", "payment_event_no"),
    Index("idx_payment_orders_status", "payment_order_status", "updated_at"),
)

payment_order_histories = Table(
    "payment_order_histories",
    metadata,
    Column("payment_order_history_no", BigInteger, primary_key=True, autoincrement=False),
    Column("payment_order_no", BigInteger, nullable=False),
    Column("previous_status", Enum(*STATUSES, name="history_previous")),
    Column("new_status", Enum(*STATUSES, name="history_new")),
    Column("created_at", DATETIME(fsp=3), nullable=False),
    Column("updated_at", DATETIME(fsp=3), nullable=False),
    Column("changed_by", String(255)),
    Column("reason", String(255)),
    Index("idx_histories_payment_order", "payment_order_no"),
)

payment_cancels = Table(
    "payment_cancels",
    metadata,
    Column("order_id", String(64), primary_key=True),
    Column("cancel_no", Integer, primary_key=True, autoincrement=False),
    Column("payment_event_no", BigInteger, nullable=False),
    Column("payment_key", String(200), nullable=False),
    Column("amount", Numeric(12, 2, asdecimal=True), nullable=False),
    Column("reason", String(200), nullable=False),
    Column("status", Enum(*CANCEL_STATUSES, name="payment_cancel_status"), nullable=False),
    Column("failure_code", String(100)),
    Column("failure_message", String(500)),
    Column("idempotency_key", String(300), nullable=False),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("in_doubt_since", DATETIME(fsp=3)),
    Column("next_attempt_at", DATETIME(fsp=3)),
    Column("canceled_at", DateTime),  # whole seconds, as the PSP reports it
    Column("psp_balance", Numeric(12, 2, asdecimal=True)),
    Column("event_id", BigInteger),
    Column("created_at", DATETIME(fsp=3), nullable=False),
    Column("updated_at", DATETIME(fsp=3), nullable=False),
    Index("uk_payment_cancels_idempotency_key", "idempotency_key", unique=True),
    Index("idx_payment_cancels_due", "next_attempt_at"),
)

payment_cancel_lines = Table(
    "payment_cancel_lines",
    metadata,
    Column("order_id", String(64), primary_key=True),
    Column("cancel_no", Integer, primary_key=True, autoincrement=False),
    Column("payment_order_no", BigInteger, primary_key=True, autoincrement=False),
    Column("amount", Numeric(12, 2, asdecimal=True), nullable=False),
    Index("idx_payment_cancel_lines_line", "payment_order_no"),
)

outbox = add_outbox_table(metadata)
processed_messages = add_inbox_table(metadata)
