from __future__ import annotations

from kiwishop.platform.inbox import inbox_migration
from kiwishop.platform.migrations import Migration
from kiwishop.platform.outbox import outbox_create_migration, outbox_trace_migration

# ``active_seller_id`` is the sellerId while the seller is not deleted and NULL afterwards: its unique key
# keeps live sellerIds unique and lets a soft-deleted (compensated) id be registered again (fixes S8).
# Generated STORED columns with a unique key work the same on MariaDB 10.11 and MySQL 8.
SELLERS = """
CREATE TABLE IF NOT EXISTS sellers (
    seller_no         BIGINT       NOT NULL PRIMARY KEY,
    seller_id         VARCHAR(128) NOT NULL,
    is_deleted        TINYINT(1)   NOT NULL DEFAULT 0,
    created_at        DATETIME(3)  NOT NULL,
    updated_at        DATETIME(3)  NOT NULL,
    active_seller_id  VARCHAR(128) AS (IF(is_deleted = 0, seller_id, NULL)) STORED,
    UNIQUE KEY uk_sellers_active_seller_id (active_seller_id),
    KEY idx_sellers_seller_id (seller_id)
) ENGINE=InnoDB
"""

# One row per registration saga (replaces Axon's saga_entry / association_value_entry): the saga id is the
# registration id and travels in every message; ``attempts`` counts wallet requests sent.
SELLER_REGISTRATIONS = """
CREATE TABLE IF NOT EXISTS seller_registrations (
    registration_id  BIGINT       NOT NULL PRIMARY KEY,
    seller_no        BIGINT       NOT NULL,
    seller_id        VARCHAR(128) NOT NULL,
    state            ENUM('WALLET_REQUESTED','COMPLETED','COMPENSATED') NOT NULL,
    attempts         INT          NOT NULL DEFAULT 1,
    last_error       VARCHAR(500) NULL,
    next_attempt_at  DATETIME(3)  NOT NULL,
    version          INT          NOT NULL DEFAULT 0,
    created_at       DATETIME(3)  NOT NULL,
    updated_at       DATETIME(3)  NOT NULL,
    KEY idx_seller_registrations_due (state, next_attempt_at),
    KEY idx_seller_registrations_seller (seller_no)
) ENGINE=InnoDB
"""

# When the seller's latest lifecycle event (SELLER_REGISTERED / SELLER_DEREGISTERED) was written to the
# outbox. Rows from before these events existed (and the seed seller) start NULL: the announcer
# (seller/announcer.py) writes the event their current state calls for and sets it.
SELLERS_ANNOUNCED_AT = """
ALTER TABLE sellers
    ADD COLUMN announced_at DATETIME(3) NULL,
    ADD KEY idx_sellers_announced_at (announced_at)
"""

MIGRATIONS = (
    Migration("0001_sellers", (SELLERS, SELLER_REGISTRATIONS)),
    outbox_create_migration("0002_outbox"),
    inbox_migration("0003_inbox"),
    Migration("0004_sellers_announced_at", (SELLERS_ANNOUNCED_AT,)),
    outbox_trace_migration("0005_outbox_trace_context"),
)

# The original's seed row (docs/original.md, "Seed data"), loaded by the local stack only.
SEED = (
    """
    INSERT IGNORE INTO sellers (seller_no, seller_id, is_deleted, created_at, updated_at)
    VALUES (1, 'A', 0, '2024-11-28 22:55:09', '2024-11-28 22:55:09')
    """,
)
