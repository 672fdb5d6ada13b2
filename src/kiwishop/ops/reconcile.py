"""``kiwishop reconcile`` (``make reconcile``): proves, per seller and in total, that the money agrees.

    Σ approved at the PSP (asked of the PSP itself, by orderId) = Σ SUCCESS payment lines
        = Σ CREDIT − Σ DEBIT wallet rows + Σ held = wallet balances + Σ held

("held": paid lines of a seller who had no wallet yet, waiting in wallet's ``held_settlements``), and that
every SUCCESS order is ``is_wallet_done`` within the lag bound, no order is stuck in EXECUTING/UNKNOWN beyond
the recovery window, no order is QUARANTINED (each needs a person), and which dead-letter topics hold records.
It reads the order and wallet schemas directly (read-only), asks the PSP with the order service's own
credentials, prints a table and exits non-zero on any discrepancy.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import bindparam, text

from kiwishop.contracts.topics import BUSINESS_TOPICS
from kiwishop.ops.dlt import count_records
from kiwishop.platform.clock import utcnow
from kiwishop.platform.db import Database
from kiwishop.platform.httpclient import HttpClient, HttpError
from kiwishop.platform.settings import InfraSettings

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Sources:
    infra: InfraSettings
    order_db: str
    wallet_db: str
    psp_url: str
    psp_secret: str
    lag_bound_s: float = 60.0
    recovery_window_s: float = 300.0
    psp_concurrency: int = 32


@dataclass
class Findings:
    per_seller: dict[int, dict[str, Decimal]] = field(default_factory=lambda: defaultdict(dict))
    order_counts: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    dlt: dict[str, int] = field(default_factory=dict)

    @property
    def clean(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class OrderSummary:
    """One payment event: its lines' highest status and latest change."""

    order_id: str
    status: str
    total_amount: Decimal
    is_wallet_done: bool
    approved_at: dt.datetime | None
    updated_at: dt.datetime
    payment_key: str | None


async def _orders(db: Database) -> list[OrderSummary]:
    query = text(
        "SELECT e.order_id, MAX(o.payment_order_status) AS status, e.total_amount, e.is_wallet_done, e.approved_at, "
        "MAX(o.updated_at) AS updated_at, e.payment_key FROM payment_events e "
        "JOIN payment_orders o ON o.payment_event_no = e.payment_event_no GROUP BY e.payment_event_no"
    )
    async with db.engine.connect() as conn:
        return [
            OrderSummary(
                order_id=row.order_id,
                status=row.status,
                total_amount=row.total_amount,
                is_wallet_done=bool(row.is_wallet_done),
                approved_at=row.approved_at,
                updated_at=row.updated_at,
                payment_key=row.payment_key,
            )
            for row in await conn.execute(query)
        ]


async def _lines_by_order(db: Database, order_ids: list[str]) -> dict[str, list[tuple[int, Decimal]]]:
    lines: dict[str, list[tuple[int, Decimal]]] = defaultdict(list)
    async with db.engine.connect() as conn:
        for start in range(0, len(order_ids), 1000):
            chunk = order_ids[start : start + 1000]
            query = text("SELECT order_id, seller_no, amount FROM payment_orders WHERE order_id IN :ids").bindparams(
                bindparam("ids", expanding=True)
            )
            rows = await conn.execute(query, {"ids": chunk})
            for row in rows:
                lines[row.order_id].append((row.seller_no, row.amount))
    return lines


async def _sums(db: Database, sql: str) -> dict[int, Decimal]:
    async with db.engine.connect() as conn:
        return {int(seller): Decimal(total) for seller, total in await conn.execute(text(sql))}


async def _psp_approved(sources: Sources, order_ids: list[str]) -> tuple[dict[str, Decimal], list[str]]:
    """orderId → amount the PSP approved and did not cancel; and the orders the PSP could not be asked about."""
    client = HttpClient(sources.psp_url, read_timeout_s=10, max_connections=sources.psp_concurrency,
                        basic_auth=(sources.psp_secret, ""))  # fmt: skip
    limit = asyncio.Semaphore(sources.psp_concurrency)
    approved: dict[str, Decimal] = {}
    unanswered: list[str] = []

    async def ask(order_id: str) -> None:
        async with limit:
            for _ in range(3):
                try:
                    response = await client.get(f"/v1/payments/orders/{order_id}")
                except HttpError:
                    continue
                if response.status_code == 404:
                    return
                if response.status_code == 200:
                    payment = response.json()
                    if payment.get("status") in ("DONE", "PARTIAL_CANCELED"):
                        approved[order_id] = Decimal(str(payment.get("balanceAmount", payment.get("totalAmount"))))
                    return
            unanswered.append(order_id)

    try:
        await asyncio.gather(*(ask(order_id) for order_id in order_ids))
    finally:
        await client.aclose()
    return approved, unanswered


async def reconcile(sources: Sources) -> Findings:
    findings = Findings()
    order_db = Database.connect(sources.infra, sources.order_db)
    wallet_db = Database.connect(sources.infra, sources.wallet_db)
    try:
        orders = await _orders(order_db)
        await _check_orders(sources, findings, orders)
        asked = [o.order_id for o in orders if o.payment_key is not None]
        approved, unanswered = await _psp_approved(sources, asked)
        findings.problems += [f"the PSP could not be asked about order {o}" for o in unanswered]
        status_of = {o.order_id: (o.status, o.total_amount) for o in orders}
        for order_id, amount in approved.items():
            status, total = status_of[order_id]
            if status != "SUCCESS" or total != amount:
                findings.problems.append(f"order {order_id}: the PSP approved {amount}, the order is {status} {total}")
        for order_id, (status, total) in status_of.items():
            if status == "SUCCESS" and order_id not in approved and order_id not in unanswered:
                findings.problems.append(f"order {order_id}: SUCCESS {total}, but the PSP approved nothing")
        psp_by_seller: dict[int, Decimal] = defaultdict(lambda: ZERO)
        for lines in (await _lines_by_order(order_db, list(approved))).values():
            for seller_no, amount in lines:
                psp_by_seller[seller_no] += amount
        columns = {
            "psp": dict(psp_by_seller),
            "success_lines": await _sums(order_db, "SELECT seller_no, SUM(amount) FROM payment_orders "
                                                   "WHERE payment_order_status = 'SUCCESS' GROUP BY seller_no"),
            "ledger": await _sums(wallet_db, "SELECT w.seller_no, SUM(CASE t.type WHEN 'CREDIT' THEN t.amount "
                                             "ELSE -t.amount END) FROM wallet_transactions t "
                                             "JOIN wallets w ON w.wallet_no = t.wallet_no GROUP BY w.seller_no"),
            "balance": await _sums(wallet_db, "SELECT seller_no, SUM(balance) FROM wallets GROUP BY seller_no"),
            "held": await _sums(wallet_db, "SELECT seller_no, SUM(amount) FROM held_settlements "
                                           "WHERE released_at IS NULL GROUP BY seller_no"),
        }  # fmt: skip
        _compare(findings, columns)
        findings.dlt = await count_records(sources.infra, [f"{t}.DLT" for t in BUSINESS_TOPICS])
    finally:
        await order_db.close()
        await wallet_db.close()
    return findings


async def _check_orders(sources: Sources, findings: Findings, orders: list[OrderSummary]) -> None:
    now = utcnow()
    lag = dt.timedelta(seconds=sources.lag_bound_s)
    window = dt.timedelta(seconds=sources.recovery_window_s)
    counts: dict[str, int] = defaultdict(int)
    for o in orders:
        counts[o.status] += 1
        if o.status == "SUCCESS" and not o.is_wallet_done and o.approved_at is not None and now - o.approved_at > lag:
            findings.problems.append(f"order {o.order_id}: SUCCESS since {o.approved_at:%H:%M:%S} but not settled")
        if o.status in ("EXECUTING", "UNKNOWN") and now - o.updated_at > window:
            findings.problems.append(f"order {o.order_id}: stuck in {o.status} since {o.updated_at:%H:%M:%S}")
        if o.status == "QUARANTINED":
            findings.problems.append(
                f"order {o.order_id}: QUARANTINED since {o.updated_at:%H:%M:%S} — a person must decide"
            )
    findings.order_counts = dict(counts)


def _agree(values: dict[str, Decimal]) -> bool:
    """PSP = SUCCESS lines = ledger + held = balance + held."""
    held = values.get("held", ZERO)
    return len({values["psp"], values["success_lines"], values["ledger"] + held, values["balance"] + held}) == 1


def _compare(findings: Findings, columns: dict[str, dict[int, Decimal]]) -> None:
    sellers = sorted(set().union(*(c.keys() for c in columns.values())))
    for seller in sellers:
        values = {name: column.get(seller, ZERO) for name, column in columns.items()}
        findings.per_seller[seller] = values
        if not _agree(values):
            findings.problems.append(f"seller {seller}: " + ", ".join(f"{k} {v}" for k, v in values.items()))


def render(findings: Findings) -> str:
    names = ["psp", "success_lines", "ledger", "balance", "held"]
    header = ["seller", "PSP approved", "SUCCESS lines", "CREDIT−DEBIT", "balance", "held", ""]
    rows = [header]
    totals = dict.fromkeys(names, ZERO)
    for seller, values in sorted(findings.per_seller.items()):
        full = {n: values.get(n, ZERO) for n in names}
        rows.append([str(seller), *(f"{full[n]:,.2f}" for n in names), "ok" if _agree(full) else "MISMATCH"])
        for n in names:
            totals[n] += full[n]
    rows.append(["total", *(f"{totals[n]:,.2f}" for n in names), "ok" if _agree(totals) else "MISMATCH"])
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = ["  ".join(c.rjust(w) if 0 < i < 6 else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True)))
             for r in rows]  # fmt: skip
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.append("")
    lines.append("orders: " + ", ".join(f"{k} {v}" for k, v in sorted(findings.order_counts.items())))
    lines.append("dead letters: " + (", ".join(f"{t} {n}" for t, n in findings.dlt.items() if n) or "none"))
    lines.append("")
    lines += [f"DISCREPANCY: {p}" for p in findings.problems[:50]]
    if len(findings.problems) > 50:
        lines.append(f"… and {len(findings.problems) - 50} more")
    lines.append("reconcile: clean" if findings.clean else f"reconcile: {len(findings.problems)} discrepancies")
    return "\n".join(lines)
