from __future__ import annotations

from kiwishop.platform.inbox import inbox_migration
from kiwishop.platform.migrations import Migration
from kiwishop.platform.outbox import outbox_create_migration, outbox_trace_migration

WALLETS = """
CREATE TABLE IF NOT EXISTS wallets (
    wallet_no   BIGINT         NOT NULL PRIMARY KEY,
    seller_no   BIGINT         NOT NULL,
    balance     DECIMAL(38, 2) NOT NULL DEFAULT 0.00,
    version     BIGINT         NOT NULL DEFAULT 0,
    created_at  DATETIME(3)    NOT NULL,
    updated_at  DATETIME(3)    NOT NULL,
    UNIQUE KEY uk_wallets_seller_no (seller_no)
) ENGINE=InnoDB
"""

# idempotency_key = settle:{orderId}:{paymentOrderNo} (a CREDIT) or debit:{orderId}:{paymentOrderNo} (a DEBIT, of a
# canceled line): the database itself refuses a second credit (W4) or debit. amount is positive either way; the
# type says which way it went.
WALLET_TRANSACTIONS = """
CREATE TABLE IF NOT EXISTS wallet_transactions (
    wallet_transaction_no  BIGINT                  NOT NULL PRIMARY KEY,
    wallet_no              BIGINT                  NOT NULL,
    amount                 DECIMAL(38, 2)          NOT NULL,
    type                   ENUM('CREDIT', 'DEBIT') NOT NULL,
    reference_id           BIGINT                  NOT NULL,
    reference_type         VARCHAR(58)             NOT NULL,
    order_id               VARCHAR(255)            NULL,
    idempotency_key        VARCHAR(255)            NOT NULL,
    created_at             DATETIME(3)             NOT NULL,
    updated_at             DATETIME(3)             NOT NULL,
    UNIQUE KEY uk_wallet_transactions_idempotency_key (idempotency_key),
    KEY idx_wallet_transactions_wallet (wallet_no, wallet_transaction_no),
    KEY idx_wallet_transactions_order (order_id)
) ENGINE=InnoDB
"""

# A paid line whose seller has no wallet yet is held here (never parked in a dead-letter topic) and credited
# — with the same idempotency key as a direct credit — when that seller's wallet exists.
HELD_SETTLEMENTS = """
CREATE TABLE IF NOT EXISTS held_settlements (
    idempotency_key   VARCHAR(255)   NOT NULL PRIMARY KEY,
    order_id          VARCHAR(255)   NOT NULL,
    payment_order_no  BIGINT         NOT NULL,
    seller_no         BIGINT         NOT NULL,
    amount            DECIMAL(38, 2) NOT NULL,
    event_id          BIGINT         NOT NULL,
    created_at        DATETIME(3)    NOT NULL,
    released_at       DATETIME(3)    NULL,
    KEY idx_held_settlements_seller (seller_no, released_at),
    KEY idx_held_settlements_open (released_at)
) ENGINE=InnoDB
"""

# A held line canceled (PAYMENT_CANCELED) before its credit: released without a credit, and never credited
# later; a line canceled before its PAYMENT_CONFIRM arrived, for a seller without a wallet, is written canceled.
HELD_SETTLEMENTS_CANCELED = "ALTER TABLE held_settlements ADD COLUMN canceled_at DATETIME(3) NULL AFTER released_at"

MIGRATIONS = (
    Migration("0001_wallets", (WALLETS, WALLET_TRANSACTIONS)),
    outbox_create_migration("0002_outbox"),
    inbox_migration("0003_inbox"),
    Migration("0004_held_settlements", (HELD_SETTLEMENTS,)),
    Migration("0005_held_settlements_canceled", (HELD_SETTLEMENTS_CANCELED,)),
    outbox_trace_migration("0006_outbox_trace_context"),
)

# The original's seed row (docs/original.md, "Seed data"): wallet 1 of seller 1, loaded by the local stack only.
SEED = (
    """
    INSERT IGNORE INTO wallets (wallet_no, seller_no, balance, version, created_at, updated_at)
    VALUES (1, 1, 0.00, 0, '2024-11-28 22:55:09', '2024-11-28 22:55:09')
    """,
)
