from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, DateTime, Enum, Integer, MetaData, String, Table

from kiwishop.seller.domain import RegistrationState

metadata = MetaData()

sellers = Table(
    "sellers",
    metadata,
    Column("seller_no", BigInteger, primary_key=True, autoincrement=False),
    Column("seller_id", String(128), nullable=False),
    Column("is_deleted", Boolean, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Column("announced_at", DateTime),  # when the seller's latest lifecycle event was written; NULL: never
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
    Column("attempts", Integer, nullable=False),
    Column("last_error", String(500)),
    Column("next_attempt_at", DateTime, nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
)
