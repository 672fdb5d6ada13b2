"""``kiwishop reconcile`` (``make reconcile``): proves, per seller and in total, that the money agrees, cancels
(refunds) included.

Per seller (``_compare``):

    Σ PSP approved − Σ PSP canceled = Σ paid lines (SUCCESS or CANCELED) − Σ CANCELED lines
        = Σ CREDIT − Σ DEBIT wallet rows + Σ held = wallet balances + Σ held

("held": paid lines of a seller who had no wallet yet, waiting in wallet's ``held_settlements``; a hold released by
a cancel is no longer held, and was never credited). The PSP knows payments, not sellers: each order it reports
approved counts, for each of the order's sellers, that seller's lines less its CANCELED ones — and per order
(``_check_psp``) the PSP's own amounts must be the order's: its ``totalAmount`` the order's total (and the order
paid), its cancels (Σ ``cancels[]``) the order's CANCELED lines and its ``balanceAmount`` the order's other lines.
So an order the PSP disagrees with is reported once, by order, and every seller's sum is the PSP's.

Also: every paid order is ``is_wallet_done`` within the lag bound, no order is stuck in EXECUTING/UNKNOWN beyond the
recovery window, no cancel is in doubt (UNKNOWN, or EXECUTING past its lease) beyond it, no order is QUARANTINED
(each needs a person), and which dead-letter topics hold records. It reads the order and wallet schemas directly
(read-only; ``reconcile_reads.py``), asks the PSP with the order service's own credentials, prints a table and
exits non-zero on any discrepancy.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from kiwishop.contracts.topics import BUSINESS_TOPICS
from kiwishop.ops import reconcile_reads as reads
from kiwishop.ops.dlt import count_records
from kiwishop.ops.reconcile_reads import PAID, ZERO, CancelInDoubt, OrderSummary, PspPayment
from kiwishop.platform.clock import utcnow
from kiwishop.platform.db import Database
from kiwishop.platform.settings import InfraSettings


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
    cancel_counts: dict[str, int] = field(default_factory=dict)
    # psp_approved, psp_canceled (the PSP's own amounts), paid_lines, canceled_lines, credit, debit: all sellers
    given_back: dict[str, Decimal] = field(default_factory=dict)
    held: dict[str, tuple[int, Decimal]] = field(default_factory=dict)  # "waiting" / "canceled" → (lines, Σ)
    problems: list[str] = field(default_factory=list)
    dlt: dict[str, int] = field(default_factory=dict)

    @property
    def clean(self) -> bool:
        return not self.problems


def _add(into: dict[int, Decimal], amounts: dict[int, Decimal]) -> None:
    for seller, amount in amounts.items():
        into[seller] = into.get(seller, ZERO) + amount


async def reconcile(sources: Sources) -> Findings:
    findings = Findings()
    order_db = Database.connect(sources.infra, sources.order_db)
    wallet_db = Database.connect(sources.infra, sources.wallet_db)
    try:
        orders = await reads.orders(order_db)
        _check_orders(sources, findings, orders)
        findings.cancel_counts, undecided = await reads.cancels(order_db)
        _check_cancels(sources, findings, undecided)
        asked = [o.order_id for o in orders if o.payment_key is not None]
        approved, unanswered = await reads.psp_payments(
            sources.psp_url, sources.psp_secret, asked, sources.psp_concurrency
        )
        findings.problems += [f"the PSP could not be asked about order {o}" for o in unanswered]
        psp = _check_psp(findings, orders, approved, set(unanswered))
        paid: dict[int, Decimal] = {}
        canceled: dict[int, Decimal] = {}
        for order in orders:
            _add(paid, {seller: by_status.get("SUCCESS", ZERO) + by_status.get("CANCELED", ZERO)
                        for seller, by_status in order.lines.items()})  # fmt: skip
            _add(canceled, order.summed(canceled=True))
        wallets = await reads.wallets(wallet_db)
        ledger = dict(wallets.credit)
        _add(ledger, {seller: -amount for seller, amount in wallets.debit.items()})
        columns = {
            "psp": psp,
            "success_lines": {seller: amount - canceled.get(seller, ZERO) for seller, amount in paid.items()},
            "ledger": ledger,
            "balance": wallets.balance,
            "held": wallets.held,
        }
        _compare(findings, columns)
        findings.given_back = {
            "psp_approved": sum((p.total for p in approved.values()), ZERO),
            "psp_canceled": sum((p.canceled for p in approved.values()), ZERO),
            "paid_lines": sum(paid.values(), ZERO),
            "canceled_lines": sum(canceled.values(), ZERO),
            "credit": sum(wallets.credit.values(), ZERO),
            "debit": sum(wallets.debit.values(), ZERO),
        }
        findings.held = wallets.held_counts
        findings.dlt = await count_records(sources.infra, [f"{t}.DLT" for t in BUSINESS_TOPICS])
    finally:
        await order_db.close()
        await wallet_db.close()
    return findings


def _check_psp(
    findings: Findings, orders: list[OrderSummary], approved: dict[str, PspPayment], unanswered: set[str]
) -> dict[int, Decimal]:
    """Each payment the PSP approved against its order; what the PSP holds, per seller (split by the lines)."""
    by_id = {o.order_id: o for o in orders}
    held_at_psp: dict[int, Decimal] = {}
    for order_id, payment in approved.items():
        order = by_id[order_id]
        kept, given_back = order.sum_of(canceled=False), order.sum_of(canceled=True)
        if order.status == "FAILURE" and payment.balance == ZERO and payment.canceled == payment.total:
            continue  # approved, then cancelled in full at the PSP (a compensation, an operator's cancel): not paid
        if order.status not in PAID or order.total_amount != payment.total:
            findings.problems.append(
                f"order {order_id}: the PSP approved {payment.total}, the order is {order.status} {order.total_amount}"
            )
        elif (payment.canceled, payment.balance) != (given_back, kept):
            findings.problems.append(
                f"order {order_id}: the PSP canceled {payment.canceled} and holds {payment.balance}, "
                f"the order's lines CANCELED {given_back} and not {kept}"
            )
        _add(held_at_psp, order.summed(canceled=False))
    for order in orders:
        if order.status in PAID and order.order_id not in approved and order.order_id not in unanswered:
            findings.problems.append(
                f"order {order.order_id}: {order.status} {order.total_amount}, but the PSP approved nothing"
            )
    return held_at_psp


def _check_orders(sources: Sources, findings: Findings, orders: list[OrderSummary]) -> None:
    now = utcnow()
    lag = dt.timedelta(seconds=sources.lag_bound_s)
    window = dt.timedelta(seconds=sources.recovery_window_s)
    counts: dict[str, int] = defaultdict(int)
    for o in orders:
        status = o.status
        counts[status] += 1
        if status in PAID and not o.is_wallet_done and o.approved_at is not None and now - o.approved_at > lag:
            findings.problems.append(f"order {o.order_id}: {status} since {o.approved_at:%H:%M:%S} but not settled")
        if status in ("EXECUTING", "UNKNOWN") and now - o.updated_at > window:
            findings.problems.append(f"order {o.order_id}: stuck in {status} since {o.updated_at:%H:%M:%S}")
        if status == "QUARANTINED":
            findings.problems.append(
                f"order {o.order_id}: QUARANTINED since {o.updated_at:%H:%M:%S} — a person must decide"
            )
    findings.order_counts = dict(counts)


def _check_cancels(sources: Sources, findings: Findings, undecided: list[CancelInDoubt]) -> None:
    """A cancel in doubt — UNKNOWN, or EXECUTING past its lease (its attempt died) — that has not moved within
    the recovery window, as for payments."""
    now = utcnow()
    window = dt.timedelta(seconds=sources.recovery_window_s)
    for c in undecided:
        lease_over = c.status == "UNKNOWN" or c.lease_until is None or c.lease_until <= now
        if lease_over and now - c.updated_at > window:
            findings.problems.append(
                f"order {c.order_id}: cancel {c.cancel_no} stuck in {c.status} since {c.updated_at:%H:%M:%S}"
            )


def _agree(values: dict[str, Decimal]) -> bool:
    """PSP approved − canceled = paid − CANCELED lines = ledger (CREDIT − DEBIT) + held = balance + held."""
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
    header = ["seller", "PSP approved−canceled", "paid−CANCELED lines", "CREDIT−DEBIT", "balance", "held", ""]
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
    g = {k: findings.given_back.get(k, ZERO) for k in ("psp_approved", "psp_canceled", "paid_lines",
                                                         "canceled_lines", "credit", "debit")}  # fmt: skip
    lines.append(f"given back: the PSP canceled {g['psp_canceled']:,.2f} of {g['psp_approved']:,.2f} approved; "
                 f"CANCELED lines {g['canceled_lines']:,.2f} of {g['paid_lines']:,.2f} paid; "
                 f"DEBIT {g['debit']:,.2f}, CREDIT {g['credit']:,.2f}")  # fmt: skip
    lines.append("orders: " + ", ".join(f"{k} {v}" for k, v in sorted(findings.order_counts.items())))
    lines.append("cancels: " + (", ".join(f"{k} {v}" for k, v in sorted(findings.cancel_counts.items())) or "none"))
    waiting, canceled = (findings.held.get(k, (0, ZERO)) for k in ("waiting", "canceled"))
    lines.append(f"held settlements: {waiting[0]} lines waiting for a wallet ({waiting[1]:,.2f}), "
                 f"{canceled[0]} canceled while held ({canceled[1]:,.2f})")  # fmt: skip
    lines.append("dead letters: " + (", ".join(f"{t} {n}" for t, n in findings.dlt.items() if n) or "none"))
    lines.append("")
    lines += [f"DISCREPANCY: {p}" for p in findings.problems[:50]]
    if len(findings.problems) > 50:
        lines.append(f"… and {len(findings.problems) - 50} more")
    lines.append("reconcile: clean" if findings.clean else f"reconcile: {len(findings.problems)} discrepancies")
    return "\n".join(lines)
