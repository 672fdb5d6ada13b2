from __future__ import annotations

from kiwishop.platform.migrations import Migration
from kiwishop.platform.outbox import outbox_create_migration, outbox_trace_migration

MIGRATIONS = (
    Migration(
        "0001_reviews",
        (
            """
            CREATE TABLE IF NOT EXISTS product_reviews (
                product_review_no  BIGINT         NOT NULL PRIMARY KEY,
                product_no         BIGINT         NOT NULL,
                member_no          BIGINT         NOT NULL,
                title              VARCHAR(100)   NOT NULL,
                content            VARCHAR(3000)  NOT NULL,
                star_rating        TINYINT        NOT NULL,
                is_deleted         TINYINT(1)     NOT NULL DEFAULT 0,
                created_at         DATETIME(3)    NOT NULL,
                updated_at         DATETIME(3)    NOT NULL,
                KEY idx_product_reviews_page (product_no, is_deleted, product_review_no),
                KEY idx_product_reviews_member (member_no),
                CONSTRAINT ck_star_rating CHECK (star_rating BETWEEN 1 AND 5)
            ) ENGINE=InnoDB
            """,
            """
            CREATE TABLE IF NOT EXISTS product_review_counts (
                product_no              BIGINT       NOT NULL PRIMARY KEY,
                review_count            BIGINT       NOT NULL DEFAULT 0,
                review_star_rating_sum  BIGINT       NOT NULL DEFAULT 0,
                version                 BIGINT       NOT NULL DEFAULT 0,
                created_at              DATETIME(3)  NOT NULL,
                updated_at              DATETIME(3)  NOT NULL,
                CONSTRAINT ck_review_totals_not_negative CHECK (review_count >= 0 AND review_star_rating_sum >= 0)
            ) ENGINE=InnoDB
            """,
        ),
    ),
    outbox_create_migration("0002_outbox"),
    outbox_trace_migration("0003_outbox_trace_context"),
)

SEED: tuple[str, ...] = ()
