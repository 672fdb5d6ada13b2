from __future__ import annotations

from kiwishop.platform.inbox import inbox_migration
from kiwishop.platform.migrations import Migration
from kiwishop.platform.outbox import outbox_migration

_STATUS = "ENUM('NOT_STARTED','EXECUTING','SUCCESS','FAILURE','UNKNOWN')"

MIGRATIONS = (
    Migration(
        "0001_payments",
        (
            """
            CREATE TABLE IF NOT EXISTS payment_events (
                payment_event_no  BIGINT         NOT NULL PRIMARY KEY,
                member_no         BIGINT         NOT NULL,
                is_payment_done   TINYINT(1)     NOT NULL DEFAULT 0,
                is_wallet_done    TINYINT(1)     NOT NULL DEFAULT 0,
                payment_key       VARCHAR(200)   NULL,
                order_id          VARCHAR(64)    NOT NULL,
                type              ENUM('NORMAL') NOT NULL,
                order_name        VARCHAR(255)   NOT NULL,
                method            ENUM('CARD')   NULL,
                total_amount      DECIMAL(12, 2) NOT NULL,
                approved_at       DATETIME       NULL,
                failure_code      VARCHAR(100)   NULL,
                failure_message   VARCHAR(500)   NULL,
                created_at        DATETIME(3)    NOT NULL,
                updated_at        DATETIME(3)    NOT NULL,
                UNIQUE KEY uk_payment_events_order_id (order_id),
                UNIQUE KEY uk_payment_events_payment_key (payment_key),
                KEY idx_payment_events_member (member_no, is_payment_done, payment_event_no)
            ) ENGINE=InnoDB
            """,
            f"""
            CREATE TABLE IF NOT EXISTS payment_orders (
                payment_order_no      BIGINT         NOT NULL PRIMARY KEY,
                payment_event_no      BIGINT         NOT NULL,
                product_no            BIGINT         NOT NULL,
                seller_no             BIGINT         NOT NULL,
                order_id              VARCHAR(64)    NOT NULL,
                product_name          VARCHAR(100)   NOT NULL,
                amount                DECIMAL(12, 2) NOT NULL,
                payment_order_status  {_STATUS}      NOT NULL DEFAULT 'NOT_STARTED',
                failed_count          TINYINT        NOT NULL DEFAULT 0,
                threshold             TINYINT        NOT NULL DEFAULT 5,
                created_at            DATETIME(3)    NOT NULL,
                updated_at            DATETIME(3)    NOT NULL,
                KEY idx_payment_orders_order_id (order_id),
                KEY idx_payment_orders_event (payment_event_no),
                KEY idx_payment_orders_status (payment_order_status, updated_at)
            ) ENGINE=InnoDB
            """,
            f"""
            CREATE TABLE IF NOT EXISTS payment_order_histories (
                payment_order_history_no  BIGINT       NOT NULL PRIMARY KEY,
                payment_order_no          BIGINT       NOT NULL,
                previous_status           {_STATUS}    NULL,
                new_status                {_STATUS}    NULL,
                created_at                DATETIME(3)  NOT NULL,
                updated_at                DATETIME(3)  NOT NULL,
                changed_by                VARCHAR(255) NULL,
                reason                    VARCHAR(255) NULL,
                KEY idx_histories_payment_order (payment_order_no)
            ) ENGINE=InnoDB
            """,
        ),
    ),
    outbox_migration("0002_outbox"),
    inbox_migration("0003_processed_messages"),
)
