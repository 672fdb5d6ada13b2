from __future__ import annotations

from kiwishop.platform.migrations import Migration
from kiwishop.platform.outbox import outbox_create_migration, outbox_trace_migration

MIGRATIONS = (
    Migration(
        "0001_likes",
        (
            """
            CREATE TABLE IF NOT EXISTS product_likes (
                product_like_no  BIGINT       NOT NULL PRIMARY KEY,
                product_no       BIGINT       NOT NULL,
                member_no        BIGINT       NOT NULL,
                created_at       DATETIME(3)  NOT NULL,
                updated_at       DATETIME(3)  NULL,
                UNIQUE KEY idx_product_no_member_no (product_no, member_no)
            ) ENGINE=InnoDB
            """,
            """
            CREATE TABLE IF NOT EXISTS product_like_counts (
                product_no  BIGINT       NOT NULL PRIMARY KEY,
                like_count  BIGINT       NOT NULL DEFAULT 0,
                version     BIGINT       NOT NULL DEFAULT 0,
                created_at  DATETIME(3)  NOT NULL,
                updated_at  DATETIME(3)  NOT NULL,
                CONSTRAINT ck_like_count_not_negative CHECK (like_count >= 0)
            ) ENGINE=InnoDB
            """,
        ),
    ),
    outbox_create_migration("0002_outbox"),
    outbox_trace_migration("0003_outbox_trace_context"),
)

SEED: tuple[str, ...] = ()
