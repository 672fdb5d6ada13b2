from __future__ import annotations

from kiwishop.platform.inbox import inbox_migration
from kiwishop.platform.migrations import Migration

PRODUCTS = """
CREATE TABLE IF NOT EXISTS products (
    product_no  BIGINT         NOT NULL PRIMARY KEY,
    seller_no   BIGINT         NULL,
    product_id  VARCHAR(255)   NOT NULL,
    name        VARCHAR(50)    NOT NULL,
    price       DECIMAL(12, 2) NOT NULL,
    created_at  DATETIME       NOT NULL,
    updated_at  DATETIME       NOT NULL,
    UNIQUE KEY uk_products_seller_product_id (seller_no, product_id)
) ENGINE=InnoDB
"""

# The sellers catalog sells for, learned from seller's SELLER_REGISTERED / SELLER_DEREGISTERED events
# (never by calling seller). Only products whose seller is ACTIVE here are registered and shown; GONE is
# final for a sellerNo.
SELLERS = """
CREATE TABLE IF NOT EXISTS sellers (
    seller_no   BIGINT                  NOT NULL PRIMARY KEY,
    seller_id   VARCHAR(128)            NOT NULL,
    state       ENUM('ACTIVE','GONE')   NOT NULL,
    updated_at  DATETIME(3)             NOT NULL
) ENGINE=InnoDB
"""

MIGRATIONS = (
    Migration("0001_products", (PRODUCTS,)),
    Migration("0002_sellers", (SELLERS,)),
    inbox_migration("0003_inbox"),
)

# The original's seed rows (docs/original.md, "Seed data"), loaded by the local stack only; seller 1 is
# seller's seed seller, ACTIVE here at once so that the seed products sell before its announcement arrives.
SEED = (
    """
    INSERT IGNORE INTO sellers (seller_no, seller_id, state, updated_at)
    VALUES (1, 'A', 'ACTIVE', '2024-11-28 22:55:09')
    """,
    """
    INSERT IGNORE INTO products (product_no, seller_no, product_id, name, price, created_at, updated_at) VALUES
      (1, 1, 'A', '상품A', 1000.00, '2024-11-28 22:55:09', '2024-11-28 22:55:09'),
      (2, 1, 'B', '상품B', 2000.00, '2024-11-28 22:55:09', '2024-11-28 22:55:09'),
      (3, 1, 'C', '상품C', 3000.00, '2024-11-28 22:55:09', '2024-11-28 22:55:09')
    """,
)
