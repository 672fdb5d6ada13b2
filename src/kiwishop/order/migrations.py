from __future__ import annotations

from kiwishop.platform.inbox import inbox_migration
from kiwishop.platform.migrations import Migration
from kiwishop.platform.outbox import outbox_create_migration, outbox_trace_migration

_STATUS = "ENUM('NOT_STARTED','EXECUTING','SUCCESS','FAILURE','UNKNOWN')"
_STATUS_V2 = "ENUM('NOT_STARTED','EXECUTING','SUCCESS','FAILURE','UNKNOWN','QUARANTINED')"
_STATUS_V3 = "ENUM('NOT_STARTED','EXECUTING','SUCCESS','FAILURE','UNKNOWN','QUARANTINED','CANCELED')"

# Verdicts on evidence and settlement that heals itself (issue "No won stranded"):
# - ``confirm_event_id``: the PAYMENT_CONFIRM's eventId, so a re-publish carries the same id;
# - ``confirm_started_at``: the first move to EXECUTING (the PSP's authorisation window is counted from it);
# - ``in_doubt_since`` / ``recovery_attempts`` / ``next_attempt_at``: per-order backoff of the recovery
#   worker (also the lease of an EXECUTING confirm: past it, the confirm is taken over);
# - ``settle_check_at`` / ``republish_count``: when a paid order not yet ``is_wallet_done`` is looked at again.
# The paymentKey a confirm is trying, apart from ``payment_key`` (UNIQUE), which holds a key only once the PSP
# vouched for it: a wrong or hostile key never takes the real one's place. In-flight orders keep theirs.
PENDING_KEY = (
    "ALTER TABLE payment_events ADD COLUMN pending_payment_key VARCHAR(200) NULL",
    "UPDATE payment_events SET pending_payment_key = payment_key WHERE payment_key IS NOT NULL",
)
RECOVERY = (
    """
    ALTER TABLE payment_events
        ADD COLUMN confirm_event_id    BIGINT      NULL,
        ADD COLUMN confirm_started_at  DATETIME(3) NULL,
        ADD COLUMN in_doubt_since      DATETIME(3) NULL,
        ADD COLUMN recovery_attempts   INT         NOT NULL DEFAULT 0,
        ADD COLUMN next_attempt_at     DATETIME(3) NULL,
        ADD COLUMN settle_check_at     DATETIME(3) NULL,
        ADD COLUMN republish_count     INT         NOT NULL DEFAULT 0,
        ADD KEY idx_payment_events_due (next_attempt_at),
        ADD KEY idx_payment_events_settle (settle_check_at)
    """,
    f"ALTER TABLE payment_orders MODIFY payment_order_status {_STATUS_V2} NOT NULL DEFAULT 'NOT_STARTED'",
    f"ALTER TABLE payment_order_histories MODIFY previous_status {_STATUS_V2} NULL,"
    f" MODIFY new_status {_STATUS_V2} NULL",
    # Orders written before this migration: the event id from the outbox while it still holds the row,
    # else the order's own number (unique among order's snowflakes).
    """
    UPDATE payment_events e JOIN outbox o ON o.idempotency_key = CONCAT('PAYMENT_CONFIRM:', e.order_id)
    SET e.confirm_event_id = o.event_id
    """,
    "UPDATE payment_events SET confirm_event_id = payment_event_no"
    " WHERE is_payment_done = 1 AND confirm_event_id IS NULL",
    "UPDATE payment_events SET confirm_started_at = updated_at WHERE payment_key IS NOT NULL",
    "UPDATE payment_events SET settle_check_at = UTC_TIMESTAMP(3) WHERE is_payment_done = 1 AND is_wallet_done = 0",
    """
    UPDATE payment_events e SET e.next_attempt_at = UTC_TIMESTAMP(3), e.in_doubt_since = e.updated_at
    WHERE EXISTS (SELECT 1 FROM payment_orders o WHERE o.payment_event_no = e.payment_event_no
                  AND o.payment_order_status IN ('UNKNOWN', 'EXECUTING'))
    """,
)

# Cancels (order gives money back): a line may become CANCELED; each cancel of an order is a row (numbered 1, 2, …
# per order, its Idempotency-Key at the PSP unique) with its lines in a child table; ``next_attempt_at`` is the
# lease of an EXECUTING cancel and the next attempt of one in doubt (UNKNOWN).
CANCELS = (
    f"ALTER TABLE payment_orders MODIFY payment_order_status {_STATUS_V3} NOT NULL DEFAULT 'NOT_STARTED'",
    f"ALTER TABLE payment_order_histories MODIFY previous_status {_STATUS_V3} NULL,"
    f" MODIFY new_status {_STATUS_V3} NULL",
    """
    CREATE TABLE IF NOT EXISTS payment_cancels (
        order_id          VARCHAR(64)    NOT NULL,
        cancel_no         INT            NOT NULL,
        payment_event_no  BIGINT         NOT NULL,
        payment_key       VARCHAR(200)   NOT NULL,
        amount            DECIMAL(12, 2) NOT NULL,
        reason            VARCHAR(200)   NOT NULL,
        status            ENUM('EXECUTING','UNKNOWN','DONE','FAILED') NOT NULL,
        failure_code      VARCHAR(100)   NULL,
        failure_message   VARCHAR(500)   NULL,
        idempotency_key   VARCHAR(300)   NOT NULL,
        attempts          INT            NOT NULL DEFAULT 0,
        in_doubt_since    DATETIME(3)    NULL,
        next_attempt_at   DATETIME(3)    NULL,
        canceled_at       DATETIME       NULL,
        psp_balance       DECIMAL(12, 2) NULL,
        event_id          BIGINT         NULL,
        created_at        DATETIME(3)    NOT NULL,
        updated_at        DATETIME(3)    NOT NULL,
        PRIMARY KEY (order_id, cancel_no),
        UNIQUE KEY uk_payment_cancels_idempotency_key (idempotency_key),
        KEY idx_payment_cancels_due (next_attempt_at)
    ) ENGINE=InnoDB
    """,
    """
    CREATE TABLE IF NOT EXISTS payment_cancel_lines (
        order_id          VARCHAR(64)    NOT NULL,
        cancel_no         INT            NOT NULL,
        payment_order_no  BIGINT         NOT NULL,
        amount            DECIMAL(12, 2) NOT NULL,
        PRIMARY KEY (order_id, cancel_no, payment_order_no),
        KEY idx_payment_cancel_lines_line (payment_order_no)
    ) ENGINE=InnoDB
    """,
)

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
    outbox_create_migration("0002_outbox"),
    inbox_migration("0003_processed_messages"),
    Migration("0004_recovery_and_settlement", RECOVERY),
    Migration("0005_pending_payment_key", PENDING_KEY),
    Migration("0006_cancels", CANCELS),
    outbox_trace_migration("0007_outbox_trace_context"),
)
