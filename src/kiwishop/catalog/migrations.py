from __future__ import annotations

from kiwishop.platform.migrations import Migration

MIGRATIONS = (
    Migration(
        "0001_products",
        (
            """
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
            """,
        ),
    ),
)

# The original's seed rows (shared/spec/original-readme.md), loaded by the local stack only.
SEED = (
    """
    INSERT IGNORE INTO products (product_no, seller_no, product_id, name, price, created_at, updated_at) VALUES
      (1, 1, 'A', '상품A', 1000.00, '2024-11-28 22:55:09', '2024-11-28 22:55:09'),
      (2, 1, 'B', '상품B', 2000.00, '2024-11-28 22:55:09', '2024-11-28 22:55:09'),
      (3, 1, 'C', '상품C', 3000.00, '2024-11-28 22:55:09', '2024-11-28 22:55:09')
    """,
)
