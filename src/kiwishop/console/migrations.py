from __future__ import annotations

from kiwishop.platform.migrations import Migration

MIGRATIONS = (
    Migration(
        "0001_audit",
        (
            """
            CREATE TABLE IF NOT EXISTS ops_audit (
                audit_no     BIGINT        NOT NULL PRIMARY KEY,
                actor        VARCHAR(255)  NOT NULL,
                action       VARCHAR(64)   NOT NULL,
                target       VARCHAR(500)  NOT NULL,
                detail       TEXT          NOT NULL,
                outcome      VARCHAR(500)  NOT NULL,
                created_at   DATETIME(3)   NOT NULL,
                finished_at  DATETIME(3)   NULL,
                KEY idx_ops_audit_actor (actor, audit_no)
            ) ENGINE=InnoDB
            """,
            """
            CREATE TABLE IF NOT EXISTS reconcile_runs (
                run_no         BIGINT        NOT NULL PRIMARY KEY,
                triggered_by   VARCHAR(255)  NOT NULL,
                started_at     DATETIME(3)   NOT NULL,
                finished_at    DATETIME(3)   NOT NULL,
                clean          TINYINT(1)    NOT NULL,
                discrepancies  INT           NOT NULL,
                report         LONGTEXT      NOT NULL
            ) ENGINE=InnoDB
            """,
        ),
    ),
    Migration(
        "0002_redrive_claims",
        (
            """
            CREATE TABLE IF NOT EXISTS redrive_claims (
                target         VARCHAR(300)  NOT NULL PRIMARY KEY,
                claimed_until  DATETIME(3)   NOT NULL
            ) ENGINE=InnoDB
            """,
        ),
    ),
)
