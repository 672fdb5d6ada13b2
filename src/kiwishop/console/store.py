"""The console's own schema: the audit of ops actions (``ports.Audit``) and the reconcile reports. Each write is
one short transaction of its own — never one held across the action it records."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from kiwishop.console.domain import OUTCOME_WIDTH, STARTED, AuditEntry
from kiwishop.console.ports import Json
from kiwishop.console.tables import ops_audit, reconcile_runs, redrive_claims
from kiwishop.platform import jsonutil
from kiwishop.platform.clock import utcnow
from kiwishop.platform.db import Database
from kiwishop.platform.ids import Snowflake

DETAIL_MAX_CHARS = 60_000  # a TEXT column, with room for multi-byte characters


def detail_text(detail: Json) -> str:
    text = jsonutil.dumps(detail).decode()
    if len(text) <= DETAIL_MAX_CHARS:
        return text
    return jsonutil.dumps({"truncated": text[: DETAIL_MAX_CHARS - 100]}).decode()


def _entry(row: Any) -> AuditEntry:
    detail = jsonutil.loads(row.detail)
    return AuditEntry(
        audit_no=row.audit_no, actor=row.actor, action=row.action, target=row.target, outcome=row.outcome,
        created_at=row.created_at, detail=detail if isinstance(detail, dict) else {"detail": detail},
        finished_at=row.finished_at,
    )  # fmt: skip


class SqlAudit:
    def __init__(self, db: Database, ids: Snowflake) -> None:
        self._db = db
        self._ids = ids

    async def start(self, actor: str, action: str, target: str, detail: Json) -> int:
        audit_no = self._ids.next_id()
        row = {"audit_no": audit_no, "actor": actor[:255], "action": action[:64], "target": target[:500],
               "detail": detail_text(detail), "outcome": STARTED, "created_at": utcnow()}  # fmt: skip
        async with self._db.uow() as uow:
            await uow.conn.execute(insert(ops_audit), row)
            await uow.commit()
        return audit_no

    async def finish(self, audit_no: int, outcome: str, detail: Json) -> None:
        values = {"outcome": outcome[:OUTCOME_WIDTH], "detail": detail_text(detail), "finished_at": utcnow()}
        async with self._db.uow() as uow:
            await uow.conn.execute(update(ops_audit).where(ops_audit.c.audit_no == audit_no).values(**values))
            await uow.commit()

    async def recent(self, limit: int) -> list[AuditEntry]:
        query = select(ops_audit).order_by(ops_audit.c.audit_no.desc()).limit(limit)
        async with self._db.engine.connect() as conn:
            return [_entry(r) for r in (await conn.execute(query)).all()]

    async def get(self, audit_no: int) -> AuditEntry | None:
        query = select(ops_audit).where(ops_audit.c.audit_no == audit_no)
        async with self._db.engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return _entry(row) if row is not None else None


_CLAIM_STATE = (
    select(redrive_claims.c.claimed_until).where(redrive_claims.c.target == bindparam("target")).with_for_update()
)


class SqlClaims:
    """``ports.Claims``: a row per target, read under its lock. Two first claims of a target race on the insert;
    the loser's duplicate key is its refusal (READ COMMITTED: no gap lock orders them before that)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def claim(self, target: str, lease_s: float) -> bool:
        now = utcnow()
        until = now + dt.timedelta(seconds=lease_s)
        try:
            async with self._db.uow() as uow:
                held = (await uow.conn.execute(_CLAIM_STATE, {"target": target})).scalar()
                if held is not None and held > now:
                    return False
                if held is None:
                    await uow.conn.execute(insert(redrive_claims), {"target": target, "claimed_until": until})
                else:
                    query = update(redrive_claims).where(redrive_claims.c.target == target)
                    await uow.conn.execute(query.values(claimed_until=until))
                await uow.commit()
        except IntegrityError:
            return False
        return True

    async def release(self, target: str) -> None:
        query = update(redrive_claims).where(redrive_claims.c.target == target).values(claimed_until=utcnow())
        async with self._db.uow() as uow:
            await uow.conn.execute(query)
            await uow.commit()


class SqlReconcileRuns:
    def __init__(self, db: Database, ids: Snowflake) -> None:
        self._db = db
        self._ids = ids

    def next_run_no(self) -> int:
        return self._ids.next_id()

    async def save(self, started: dt.datetime, finished: dt.datetime, report: Json) -> None:
        row = {
            "run_no": report["runNo"], "triggered_by": str(report["triggeredBy"])[:255], "started_at": started,
            "finished_at": finished, "clean": bool(report["clean"]), "discrepancies": int(report["discrepancies"]),
            "report": jsonutil.dumps(report).decode(),
        }  # fmt: skip
        async with self._db.uow() as uow:
            await uow.conn.execute(insert(reconcile_runs), row)
            await uow.commit()

    async def last(self) -> Json | None:
        query = select(reconcile_runs.c.report).order_by(reconcile_runs.c.run_no.desc()).limit(1)
        async with self._db.engine.connect() as conn:
            text = (await conn.execute(query)).scalar()
        report = jsonutil.loads(text) if text is not None else None
        return report if isinstance(report, dict) else None
