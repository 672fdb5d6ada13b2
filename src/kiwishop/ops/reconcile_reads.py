"""What ``kiwishop reconcile`` reads (``reconcile.py`` compares it): order's payments with their lines' sums by
seller and status, its cancels in doubt, wallet's ledger, balances and holds — all read-only — and each payment
as the PSP reports it (Toss's lookup by orderId: ``totalAmount``, ``balanceAmount``, ``cancels[]``)."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import text

from kiwishop.platform.db import Database
from kiwishop.platform.httpclient import HttpClient, HttpError

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
PAID = ("SUCCESS", "PARTIAL_CANCELED", "CANCELED")  # an order the PSP approved (order/domain.py)
PSP_APPROVED = ("DONE", "PARTIAL_CANCELED", "CANCELED")  # a payment the PSP approved (and may have given back)


@dataclass
class OrderSummary:
    """One payment event: its status (derived from its lines, as order shows it) and its lines' sums."""

    order_id: str
    total_amount: Decimal
    is_wallet_done: bool
    approved_at: dt.datetime | None
    payment_key: str | None
    updated_at: dt.datetime  # the latest change of its lines
    # seller → status → Σ amount of that seller's lines in that status
    lines: dict[int, dict[str, Decimal]] = field(default_factory=lambda: defaultdict(dict))

    @property
    def status(self) -> str:
        """The highest status of its lines (as MAX() had it), but PARTIAL_CANCELED when some lines are CANCELED
        and the rest SUCCESS, CANCELED when every line is."""
        statuses = {s for by_status in self.lines.values() for s in by_status}
        rest = statuses - {"CANCELED"}
        if not rest:
            return "CANCELED" if statuses else "NOT_STARTED"
        highest = max(rest)
        return "PARTIAL_CANCELED" if highest == "SUCCESS" and "CANCELED" in statuses else highest

    def summed(self, *, canceled: bool) -> dict[int, Decimal]:
        """Per seller: Σ its CANCELED lines, or Σ its other lines."""
        return {
            seller: sum((a for s, a in by_status.items() if (s == "CANCELED") == canceled), ZERO)
            for seller, by_status in self.lines.items()
        }

    def sum_of(self, *, canceled: bool) -> Decimal:
        return sum(self.summed(canceled=canceled).values(), ZERO)


async def orders(db: Database) -> list[OrderSummary]:
    query = text(
        "SELECT e.order_id, e.total_amount, e.is_wallet_done, e.approved_at, e.payment_key, o.seller_no,"
        " o.payment_order_status AS status, SUM(o.amount) AS amount, MAX(o.updated_at) AS updated_at"
        " FROM payment_events e JOIN payment_orders o ON o.payment_event_no = e.payment_event_no"
        " GROUP BY e.payment_event_no, o.seller_no, o.payment_order_status"
    )
    found: dict[str, OrderSummary] = {}
    async with db.engine.connect() as conn:
        for row in await conn.execute(query):
            order = found.get(row.order_id)
            if order is None:
                order = found[row.order_id] = OrderSummary(
                    order_id=row.order_id,
                    total_amount=row.total_amount,
                    is_wallet_done=bool(row.is_wallet_done),
                    approved_at=row.approved_at,
                    payment_key=row.payment_key,
                    updated_at=row.updated_at,
                )
            order.lines[int(row.seller_no)][str(row.status)] = Decimal(row.amount)
            order.updated_at = max(order.updated_at, row.updated_at)
    return list(found.values())


@dataclass(frozen=True)
class CancelInDoubt:
    order_id: str
    cancel_no: int
    status: str
    lease_until: dt.datetime | None  # ``next_attempt_at``: an EXECUTING cancel's lease, an UNKNOWN one's next try
    updated_at: dt.datetime


async def cancels(db: Database) -> tuple[dict[str, int], list[CancelInDoubt]]:
    """Order's cancels counted by status, and those not decided yet (EXECUTING, UNKNOWN)."""
    async with db.engine.connect() as conn:
        counts = {
            str(status): int(n)
            for status, n in await conn.execute(text("SELECT status, COUNT(*) FROM payment_cancels GROUP BY status"))
        }
        undecided = await conn.execute(
            text(
                "SELECT order_id, cancel_no, status, next_attempt_at, updated_at FROM payment_cancels"
                " WHERE status IN ('EXECUTING', 'UNKNOWN') ORDER BY order_id, cancel_no"
            )
        )
        return counts, [CancelInDoubt(r.order_id, r.cancel_no, r.status, r.next_attempt_at, r.updated_at)
                        for r in undecided]  # fmt: skip


@dataclass(frozen=True)
class Wallets:
    credit: dict[int, Decimal]
    debit: dict[int, Decimal]
    balance: dict[int, Decimal]
    held: dict[int, Decimal]  # waiting for a wallet: neither released (credited) nor canceled
    held_counts: dict[str, tuple[int, Decimal]]  # "waiting" / "canceled" (released by a cancel) → (lines, Σ)


async def wallets(db: Database) -> Wallets:
    async with db.engine.connect() as conn:
        ledger: dict[str, dict[int, Decimal]] = {"CREDIT": {}, "DEBIT": {}}
        rows = await conn.execute(
            text(
                "SELECT w.seller_no, t.type, SUM(t.amount) FROM wallet_transactions t"
                " JOIN wallets w ON w.wallet_no = t.wallet_no GROUP BY w.seller_no, t.type"
            )
        )
        for seller, kind, total in rows:
            ledger[str(kind)][int(seller)] = Decimal(total)
        balance = {int(s): Decimal(b) for s, b in await conn.execute(
            text("SELECT seller_no, SUM(balance) FROM wallets GROUP BY seller_no"))}  # fmt: skip
        held = {int(s): Decimal(a) for s, a in await conn.execute(
            text("SELECT seller_no, SUM(amount) FROM held_settlements"
                 " WHERE released_at IS NULL AND canceled_at IS NULL GROUP BY seller_no"))}  # fmt: skip
        counts = {}
        for name, where in (("waiting", "released_at IS NULL AND canceled_at IS NULL"),
                            ("canceled", "canceled_at IS NOT NULL")):  # fmt: skip
            n, total = (
                await conn.execute(text(f"SELECT COUNT(*), SUM(amount) FROM held_settlements WHERE {where}"))
            ).one()
            counts[name] = (int(n), Decimal(total or ZERO))
    return Wallets(ledger["CREDIT"], ledger["DEBIT"], balance, held, counts)


@dataclass(frozen=True)
class PspPayment:
    """A payment as the PSP reports it: approved ``total``, Σ of its DONE ``cancels[]``, and what it still holds."""

    status: str
    total: Decimal
    canceled: Decimal
    balance: Decimal


def psp_payment(payment: Mapping[str, Any]) -> PspPayment:
    """The PSP's lookup answer read; ``KeyError``, ``TypeError`` or ``ArithmeticError`` when it is not one."""
    total = _money(payment["totalAmount"])
    done = [c for c in payment.get("cancels") or () if c.get("cancelStatus", "DONE") == "DONE"]
    canceled = sum((_money(c["cancelAmount"]) for c in done), ZERO)
    balance = payment.get("balanceAmount")
    return PspPayment(str(payment["status"]), total, canceled, total - canceled if balance is None else _money(balance))


def _money(value: object) -> Decimal:
    """A PSP amount (a JSON integer of won) with the shop's two decimals."""
    return Decimal(str(value)).quantize(CENT)


async def psp_payments(
    url: str, secret: str, order_ids: list[str], concurrency: int
) -> tuple[dict[str, PspPayment], list[str]]:
    """orderId → the payment the PSP approved for it (DONE, or cancelled since, in part or in full); and the orders
    the PSP could not be asked about."""
    client = HttpClient(url, read_timeout_s=10, max_connections=concurrency, basic_auth=(secret, ""))
    limit = asyncio.Semaphore(concurrency)
    approved: dict[str, PspPayment] = {}
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
                    try:
                        payment = response.json()
                        if payment.get("status") in PSP_APPROVED:
                            approved[order_id] = psp_payment(payment)
                        return
                    except (ValueError, KeyError, TypeError, AttributeError, ArithmeticError):
                        break  # not a payment: as good as no answer
            unanswered.append(order_id)

    try:
        await asyncio.gather(*(ask(order_id) for order_id in order_ids))
    finally:
        await client.aclose()
    return approved, unanswered
