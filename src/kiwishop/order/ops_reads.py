"""The orders an operator must see (``GET /api/ops/payments``, the console's payments): in doubt (EXECUTING,
UNKNOWN), QUARANTINED, and paid orders wallet has not settled yet — each list oldest first, capped, with the
counts of all of them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from kiwishop.order.tables import payment_events, payment_orders
from kiwishop.platform.db import Database

pe, po = payment_events, payment_orders
IN_DOUBT = ("EXECUTING", "UNKNOWN")
_COLUMNS = (
    pe.c.order_id, pe.c.member_no, pe.c.total_amount, pe.c.payment_key, pe.c.pending_payment_key, pe.c.created_at,
    pe.c.updated_at, pe.c.next_attempt_at, pe.c.in_doubt_since, pe.c.recovery_attempts, pe.c.failure_code,
    pe.c.failure_message, pe.c.approved_at, pe.c.settle_check_at, pe.c.republish_count,
)  # fmt: skip


@dataclass(frozen=True)
class OpsPayments:
    counts: dict[str, int]
    in_doubt: list[dict[str, Any]]
    quarantined: list[dict[str, Any]]
    unsettled: list[dict[str, Any]]


def _of_status(statuses: tuple[str, ...], limit: int) -> Any:
    status = func.min(po.c.payment_order_status).label("status")
    return (
        select(*_COLUMNS, status)
        .join(po, po.c.payment_event_no == pe.c.payment_event_no)
        .where(po.c.payment_order_status.in_(statuses))
        .group_by(pe.c.payment_event_no)
        .order_by(pe.c.payment_event_no)
        .limit(limit)
    )


_UNSETTLED = pe.c.settle_check_at.is_not(None)  # paid, wallet's WALLET_SETTLED not recorded yet
_COUNT_UNSETTLED = select(func.count()).select_from(pe).where(_UNSETTLED)


def _row(row: Any, status: str) -> dict[str, Any]:
    return {
        "orderId": row.order_id,
        "status": status,
        "totalAmount": row.total_amount,
        "buyerId": row.member_no,
        "paymentKey": row.payment_key or row.pending_payment_key,
        "createdAt": _iso(row.created_at),
        "updatedAt": _iso(row.updated_at),
        "nextAttemptAt": _iso(row.next_attempt_at),
        "inDoubtSince": _iso(row.in_doubt_since),
        "recoveryAttempts": row.recovery_attempts,
        "failureCode": row.failure_code,
        "failureMessage": row.failure_message,
        "approvedAt": _iso(row.approved_at),
        "republishCount": row.republish_count,
    }


def _iso(moment: Any) -> str | None:
    """Stored times are UTC without a zone: say so."""
    return None if moment is None else f"{moment.isoformat(timespec='milliseconds')}Z"


async def ops_payments(db: Database, limit: int) -> OpsPayments:
    counts_query = (
        select(po.c.payment_order_status, func.count(func.distinct(po.c.order_id)))
        .where(po.c.payment_order_status.in_((*IN_DOUBT, "QUARANTINED")))
        .group_by(po.c.payment_order_status)
    )
    unsettled = select(*_COLUMNS).where(_UNSETTLED).order_by(pe.c.settle_check_at).limit(limit)
    async with db.engine.connect() as conn:
        counts = {status: 0 for status in (*IN_DOUBT, "QUARANTINED")}
        counts.update({status: int(n) for status, n in await conn.execute(counts_query)})
        counts["UNSETTLED"] = int((await conn.execute(_COUNT_UNSETTLED)).scalar_one())
        in_doubt = [_row(r, r.status) for r in await conn.execute(_of_status(IN_DOUBT, limit))]
        quarantined = [_row(r, r.status) for r in await conn.execute(_of_status(("QUARANTINED",), limit))]
        waiting = [_row(r, "SUCCESS") for r in await conn.execute(unsettled)]
    return OpsPayments(counts, in_doubt, quarantined, waiting)
