"""The console's tables as its code reads and writes them; ``tests/integration/schemas`` checks them against
``migrations.py``. ``ops_audit``: one row per ops action, written before it runs (outcome ``started``) and
completed after; ``redrive_claims``: the redrives under way; ``reconcile_runs``: every reconcile's report, on
demand or scheduled."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Index, Integer, MetaData, String, Table, Text
from sqlalchemy.dialects.mysql import DATETIME, LONGTEXT

metadata = MetaData()

ops_audit = Table(
    "ops_audit",
    metadata,
    Column("audit_no", BigInteger, primary_key=True, autoincrement=False),
    Column("actor", String(255), nullable=False),  # ops:<subject of the ops token>
    Column("action", String(64), nullable=False),
    Column("target", String(500), nullable=False),
    Column("detail", Text, nullable=False),  # JSON: the action's inputs and its answer
    Column("outcome", String(500), nullable=False),  # ok, started, or the error
    Column("created_at", DATETIME(fsp=3), nullable=False),
    Column("finished_at", DATETIME(fsp=3)),
    Index("idx_ops_audit_actor", "actor", "audit_no"),
)

# A redrive under way: one per dead-letter topic at a time (of one record or of all), so two operators pressing
# at once publish nothing twice. Released when it ends; a console that
# died mid-way leaves a claim that lapses at ``claimed_until``.
redrive_claims = Table(
    "redrive_claims",
    metadata,
    Column("target", String(300), primary_key=True),
    Column("claimed_until", DATETIME(fsp=3), nullable=False),
)

reconcile_runs = Table(
    "reconcile_runs",
    metadata,
    Column("run_no", BigInteger, primary_key=True, autoincrement=False),
    Column("triggered_by", String(255), nullable=False),  # ops:<subject>, or schedule
    Column("started_at", DATETIME(fsp=3), nullable=False),
    Column("finished_at", DATETIME(fsp=3), nullable=False),
    Column("clean", Boolean, nullable=False),
    Column("discrepancies", Integer, nullable=False),
    Column("report", LONGTEXT, nullable=False),  # JSON (reconciling.report_of)
)
