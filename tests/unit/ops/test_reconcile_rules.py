"""reconcile's rules without servers: an order's status from its lines, the PSP's answer read, each payment checked
against its order (cancels included), cancels in doubt, and the per-seller agreement."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from kiwishop.ops.reconcile import Findings, Sources, _check_cancels, _check_psp, _compare, render
from kiwishop.ops.reconcile_reads import CancelInDoubt, OrderSummary, PspPayment, psp_payment
from kiwishop.platform.clock import utcnow
from kiwishop.platform.settings import InfraSettings

D = Decimal


def order(order_id: str = "o-1", total: str = "6000.00", **lines: dict[str, str]) -> OrderSummary:
    """``lines``: ``s<seller>={status: amount}``."""
    summary = OrderSummary(order_id, D(total), True, None, "key", utcnow())
    for seller, by_status in lines.items():
        summary.lines[int(seller.removeprefix("s"))] = {s: D(a) for s, a in by_status.items()}
    return summary


def toss(total: int, *cancels: int, balance: int | None = None, status: str = "DONE") -> dict[str, object]:
    entries = [{"cancelAmount": c, "cancelStatus": "DONE"} for c in cancels]
    left = total - sum(cancels) if balance is None else balance
    return {"status": status, "totalAmount": total, "balanceAmount": left, "cancels": entries or None}


def test_an_orders_status_comes_from_its_lines_as_order_shows_it() -> None:
    assert order(s1={"SUCCESS": "6000"}).status == "SUCCESS"
    assert order(s1={"SUCCESS": "4000", "CANCELED": "2000"}).status == "PARTIAL_CANCELED"
    assert order(s1={"CANCELED": "4000"}, s2={"CANCELED": "2000"}).status == "CANCELED"
    assert order(s1={"SUCCESS": "3000", "FAILURE": "3000"}).status == "SUCCESS"  # the highest, as MAX() had it
    assert order(s1={"UNKNOWN": "6000"}).status == "UNKNOWN"


def test_the_psps_answer_gives_its_total_its_done_cancels_and_its_balance() -> None:
    assert psp_payment(toss(6000)) == PspPayment("DONE", D("6000.00"), D("0.00"), D("6000.00"))
    answer = toss(6000, 1000, 2000, status="PARTIAL_CANCELED")
    assert psp_payment(answer) == PspPayment("PARTIAL_CANCELED", D("6000.00"), D("3000.00"), D("3000.00"))
    pending = {**answer, "cancels": [{"cancelAmount": 1000, "cancelStatus": "DONE"}, {"cancelAmount": 5000}]}
    assert psp_payment({**pending, "balanceAmount": None}).balance == D("0.00")  # no status: counted as done
    aborted = {**answer, "cancels": [{"cancelAmount": 1000, "cancelStatus": "ABORTED"}]}
    assert psp_payment(aborted).canceled == D("0.00")


def test_a_partly_cancelled_order_agrees_with_the_psp_and_counts_its_kept_lines_per_seller() -> None:
    findings = Findings()
    o = order(s1={"SUCCESS": "1000.00", "CANCELED": "2000.00"}, s2={"SUCCESS": "3000.00"})
    held = _check_psp(findings, [o], {"o-1": psp_payment(toss(6000, 2000, status="PARTIAL_CANCELED"))}, set())
    assert (findings.problems, held) == ([], {1: D("1000.00"), 2: D("3000.00")})


def test_a_cancel_one_side_never_made_is_one_discrepancy_of_the_order() -> None:
    findings = Findings()
    shop_only = order("o-1", s1={"SUCCESS": "5000.00", "CANCELED": "1000.00"})
    psp_only = order("o-2", s1={"SUCCESS": "6000.00"})
    payments = {"o-1": psp_payment(toss(6000)), "o-2": psp_payment(toss(6000, 1000, status="PARTIAL_CANCELED"))}
    _check_psp(findings, [shop_only, psp_only], payments, set())
    assert findings.problems == [
        "order o-1: the PSP canceled 0.00 and holds 6000.00, the order's lines CANCELED 1000.00 and not 5000.00",
        "order o-2: the PSP canceled 1000.00 and holds 5000.00, the order's lines CANCELED 0.00 and not 6000.00",
    ]


def test_a_wholly_cancelled_order_is_approved_at_the_psp_and_holds_nothing() -> None:
    findings = Findings()
    o = order(s1={"CANCELED": "6000.00"})
    held = _check_psp(findings, [o], {"o-1": psp_payment(toss(6000, 6000, status="CANCELED"))}, set())
    assert (findings.problems, held) == ([], {1: D("0.00")})
    _check_psp(findings, [o], {}, set())
    assert findings.problems == ["order o-1: CANCELED 6000.00, but the PSP approved nothing"]


def test_a_failed_order_whose_payment_the_psp_gave_back_in_full_agrees_and_one_it_still_holds_does_not() -> None:
    findings = Findings()
    given_back = order("o-1", s1={"FAILURE": "6000.00"})  # an operator's (or a compensating) cancel at the PSP
    kept = order("o-2", s1={"FAILURE": "6000.00"})
    payments = {"o-1": psp_payment(toss(6000, 6000, status="CANCELED")), "o-2": psp_payment(toss(6000, 1000))}
    assert _check_psp(findings, [given_back], {"o-1": payments["o-1"]}, set()) == {}  # nothing held for a seller
    assert findings.problems == []
    _check_psp(findings, [given_back, kept], payments, set())
    assert findings.problems == ["order o-2: the PSP approved 6000.00, the order is FAILURE 6000.00"]


def test_a_cancel_in_doubt_is_listed_once_its_lease_is_over_and_it_has_not_moved_within_the_window() -> None:
    now = utcnow()
    old, recent = now - dt.timedelta(hours=1), now - dt.timedelta(seconds=5)
    sources = Sources(InfraSettings(), "o", "w", "http://psp", "secret", recovery_window_s=300)
    findings = Findings()
    _check_cancels(
        sources,
        findings,
        [
            CancelInDoubt("o-1", 1, "UNKNOWN", old, old),
            CancelInDoubt("o-2", 1, "UNKNOWN", now, recent),  # retried just now
            CancelInDoubt("o-3", 2, "EXECUTING", old, old),  # its attempt died long ago
            CancelInDoubt("o-4", 1, "EXECUTING", now + dt.timedelta(minutes=1), old),  # someone holds the lease
        ],
    )
    assert [p.split(" since ")[0] for p in findings.problems] == [
        "order o-1: cancel 1 stuck in UNKNOWN",
        "order o-3: cancel 2 stuck in EXECUTING",
    ]


def test_per_seller_the_psp_net_of_cancels_the_kept_lines_the_ledger_and_the_balance_agree() -> None:
    findings = Findings()
    agreeing = {"psp": {1: D("4000")}, "success_lines": {1: D("4000")}, "ledger": {1: D("3000")},
                "balance": {1: D("3000")}, "held": {1: D("1000")}}  # fmt: skip
    _compare(findings, agreeing)
    assert findings.problems == []
    _compare(findings, {**agreeing, "ledger": {1: D("5000")}})  # a DEBIT row missing
    assert findings.problems == ["seller 1: psp 4000, success_lines 4000, ledger 5000, balance 3000, held 1000"]
    assert "DISCREPANCY: seller 1:" in render(findings)
    assert render(findings).endswith("reconcile: 1 discrepancies")
