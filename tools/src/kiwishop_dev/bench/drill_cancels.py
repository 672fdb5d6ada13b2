"""The drill's checks of the cancels (``drills._judge``), after the drain: money went back exactly once.

- every cancel the load saw answered 200 or 202 is ``DONE`` in order's ``payment_cancels`` (a 202 followed up
  until the order showed it: none may still be in doubt at the end), and the load saw no undocumented 4xx;
- the CANCELED lines are exactly the lines of the DONE cancels, each in one;
- at the PSP: the emulator's ``canceled`` count and ``canceledAmount`` are the DONE cancels and the CANCELED
  lines' sum (the load makes no cancel outside the shop), and per order its ``cancels[]`` are its DONE cancels,
  their sum its CANCELED lines' sum;
- in wallet, per seller: one DEBIT row per CANCELED line, the same amount (a line cancelled while still held is
  released instead: counted with the DEBITs), and the DEBIT keys are exactly ``debit:{orderId}:{paymentOrderNo}``
  of the CANCELED lines — waited for (wallet consumes PAYMENT_CANCELED after the drain) until ``deadline_s``.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, defaultdict
from decimal import Decimal
from typing import Any

from kiwishop.order.settings import TEST_SECRET_KEY
from kiwishop.platform.httpclient import HttpClient
from kiwishop_dev.bench.cancels import Cancels
from kiwishop_dev.bench.shop import ORDER_DB, WALLET_DB, Shop

PerSeller = dict[int, tuple[int, Decimal]]  # seller → (lines, amount)


async def judge(
    shop: Shop, cancels: Cancels, psp: dict[str, Any], deadline_s: float
) -> tuple[dict[str, Any], list[str]]:
    """The books of the cancels (for the report) and every problem found."""
    problems: list[str] = []
    summary = cancels.summary()
    if summary["inDoubtAtEnd"]:
        problems.append(f"{summary['inDoubtAtEnd']} cancel(s) answered 202 never shown by their order")
    if summary["problems"]:
        problems.append(f"cancel answers outside the documented ones: {summary['problems']}")
    stored = {(str(o), int(n)): (str(s), Decimal(a)) for o, n, s, a in await shop.rows(
        ORDER_DB, "SELECT order_id, cancel_no, status, amount FROM payment_cancels")}  # fmt: skip
    for request in cancels.requests:
        if request.status in (200, 202):
            status = stored.get((request.order_id, request.cancel_no or 0), ("missing", Decimal(0)))[0]
            if status != "DONE":
                problems.append(f"cancel {request.order_id}#{request.cancel_no} answered {request.status}, is {status}")
    done = {key: amount for key, (status, amount) in stored.items() if status == "DONE"}
    canceled = await shop.rows(
        ORDER_DB, "SELECT order_id, payment_order_no, seller_no, amount FROM payment_orders "
        "WHERE payment_order_status = 'CANCELED'",
    )  # fmt: skip
    in_done = Counter((str(o), int(n)) for o, n in await shop.rows(
        ORDER_DB, "SELECT l.order_id, l.payment_order_no FROM payment_cancel_lines l JOIN payment_cancels c "
        "ON c.order_id = l.order_id AND c.cancel_no = l.cancel_no WHERE c.status = 'DONE'"))  # fmt: skip
    lines = {(str(o), int(n)): (int(s), Decimal(a)) for o, n, s, a in canceled}
    if set(in_done) != set(lines) or any(n > 1 for n in in_done.values()):
        extra, missing = sorted(set(in_done) - set(lines))[:5], sorted(set(lines) - set(in_done))[:5]
        twice = [k for k, n in in_done.items() if n > 1][:5]
        problems.append(f"DONE cancels' lines vs CANCELED lines: not CANCELED {extra}, in no DONE cancel "
                        f"{missing}, in two {twice}")  # fmt: skip
    canceled_amount = sum((amount for _, amount in lines.values()), Decimal(0))
    psp_count = int(psp.get("canceled", 0)) - int(psp.get("canceledOutside", 0))
    psp_amount = Decimal(psp.get("canceledAmount", 0))
    if psp_count != len(done) or psp_amount != canceled_amount or sum(done.values(), Decimal(0)) != canceled_amount:
        problems.append(f"PSP canceled {psp_count} for {psp_amount}; the shop: {len(done)} DONE cancels, "
                        f"CANCELED lines {canceled_amount}")  # fmt: skip
    problems += await _per_order_at_psp(shop, done, lines)
    expected: PerSeller = _per_seller((seller, amount) for seller, amount in lines.values())
    debits, wallet_problems = await _wallet(shop, lines, expected, deadline_s)
    problems += wallet_problems
    books = {
        "pspCanceled": psp_count, "pspCanceledAmount": str(psp_amount), "doneCancels": len(done),
        "canceledLines": len(lines), "canceledAmount": str(canceled_amount),
        "debitRows": sum(n for n, _ in debits.values()),
        "debitAmount": str(sum((a for _, a in debits.values()), Decimal(0))),
    }  # fmt: skip
    return books, problems


def _per_seller(rows: Any) -> PerSeller:
    found: dict[int, list[Any]] = defaultdict(lambda: [0, Decimal(0)])
    for seller, amount in rows:
        found[int(seller)][0] += 1
        found[int(seller)][1] += Decimal(amount)
    return {seller: (n, amount) for seller, (n, amount) in sorted(found.items())}


async def _per_order_at_psp(
    shop: Shop, done: dict[tuple[str, int], Decimal], lines: dict[tuple[str, int], tuple[int, Decimal]]
) -> list[str]:
    """Each order with a DONE cancel: the PSP's cancels[] are its DONE cancels, their sum its CANCELED lines."""
    count: Counter[str] = Counter(order_id for order_id, _ in done)
    amount: dict[str, Decimal] = defaultdict(Decimal)
    for (order_id, _), (_, line_amount) in lines.items():
        amount[order_id] += line_amount
    client = HttpClient(shop.url("toss-emulator"), read_timeout_s=30, max_connections=16,
                        basic_auth=(TEST_SECRET_KEY, ""))  # fmt: skip
    limit = asyncio.Semaphore(16)
    problems: list[str] = []

    async def ask(order_id: str) -> None:
        async with limit:
            response = await client.get(f"/v1/payments/orders/{order_id}")
        payment = response.json() if response.status_code == 200 else {}
        psp_cancels = payment.get("cancels") or []
        psp_sum = sum((Decimal(str(c.get("cancelAmount"))) for c in psp_cancels), Decimal(0))
        if len(psp_cancels) != count[order_id] or psp_sum != amount[order_id]:
            problems.append(f"order {order_id}: the PSP has {len(psp_cancels)} cancel(s) for {psp_sum}, the shop "
                            f"{count[order_id]} DONE, CANCELED lines {amount[order_id]}")  # fmt: skip

    try:
        await asyncio.gather(*(ask(order_id) for order_id in sorted(set(count) | set(amount))))
    finally:
        await client.aclose()
    return problems


async def _wallet(
    shop: Shop, lines: dict[tuple[str, int], tuple[int, Decimal]], expected: PerSeller, deadline_s: float
) -> tuple[PerSeller, list[str]]:
    """DEBIT rows (and lines released while held) per seller against the CANCELED lines, waited for."""
    deadline = time.monotonic() + deadline_s
    while True:
        debit_rows = await shop.rows(
            WALLET_DB, "SELECT w.seller_no, t.amount, t.idempotency_key FROM wallet_transactions t "
            "JOIN wallets w ON w.wallet_no = t.wallet_no WHERE t.type = 'DEBIT'",
        )  # fmt: skip
        held = await shop.rows(
            WALLET_DB, "SELECT seller_no, amount, CONCAT('debit:', order_id, ':', payment_order_no) "
            "FROM held_settlements WHERE canceled_at IS NOT NULL",
        )  # fmt: skip
        debits = _per_seller((seller, amount) for seller, amount, _ in [*debit_rows, *held])
        keys = {str(key) for _, _, key in debit_rows}
        wanted = {f"debit:{order_id}:{line}" for order_id, line in lines}
        held_keys = {str(key) for _, _, key in held}
        if (debits == expected and keys | held_keys == wanted) or time.monotonic() > deadline:
            break
        await asyncio.sleep(1.0)
    problems = []
    if debits != expected:
        problems.append(f"wallet per seller (DEBIT rows, amount) {debits}, CANCELED lines {expected}")
    if keys | held_keys != wanted:
        problems.append(
            f"DEBIT keys: missing {sorted(wanted - keys - held_keys)[:5]}, extra {sorted(keys - wanted)[:5]}"
        )
    return debits, problems
