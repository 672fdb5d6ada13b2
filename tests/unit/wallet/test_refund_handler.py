"""A cancel of a paid order's lines (``refunds.refund``, PAYMENT_CANCELED) against the in-memory ledger: each
canceled line is debited once from its seller's wallet, and the balance stays the ledger's sum."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from kiwishop.platform.consumer import PermanentError
from kiwishop.platform.db import ConflictError, is_transient, retry_on_conflict
from kiwishop.platform.envelope import Envelope
from kiwishop.wallet.handlers import SETTLEMENT_CONSUMER, settle
from kiwishop.wallet.refunds import refund
from tests.unit.wallet.fakes import Credit, FakeLedger, canceled, paid

ORDER = [(1, 7, "1000.00"), (2, 7, "2000.00"), (3, 8, "3000.00")]  # paymentOrderNo, sellerNo, amount


async def settled_ledger(order_id: str) -> FakeLedger:
    """Sellers 7 and 8 with wallets, and ``ORDER`` paid and credited to them."""
    ledger = FakeLedger()
    ledger.add_wallet(7, wallet_no=70)
    ledger.add_wallet(8, wallet_no=80)
    await settle(ledger, paid(order_id, *[(no, s, a, "SUCCESS") for no, s, a in ORDER]))
    return ledger


def agrees(ledger: FakeLedger, *sellers: int) -> bool:
    """Σ CREDIT − Σ DEBIT = balance, per seller."""
    return all(ledger.ledger_sum(s) == ledger.balance(s) for s in sellers)


async def test_a_partial_cancel_debits_the_line_once_from_its_sellers_wallet() -> None:
    ledger = await settled_ledger("o-1")
    await refund(ledger, canceled("o-1", (2, 7, "2000.00"), of=ORDER))
    assert ledger.state.debits == {"debit:o-1:2": Credit(70, Decimal("2000.00"), "o-1", 2)}
    assert (ledger.balance(7), ledger.state.wallets[7].version) == (Decimal("1000.00"), 2)
    assert (ledger.balance(8), ledger.state.wallets[8].version) == (Decimal("3000.00"), 1)
    assert len(ledger.state.credits) == 3  # the credits stay: the ledger keeps both
    assert agrees(ledger, 7, 8)


async def test_a_repeated_cancel_under_the_same_or_a_new_event_id_debits_nothing_more() -> None:
    ledger = await settled_ledger("o-2")
    first = canceled("o-2", (1, 7, "1000.00"), of=ORDER)
    again = canceled("o-2", (1, 7, "1000.00"), of=ORDER)  # order sending it again under a new event id
    for event in (first, first, again):
        await refund(ledger, event)
    assert list(ledger.state.debits) == ["debit:o-2:1"]
    assert (ledger.balance(7), ledger.state.wallets[7].version) == (Decimal("2000.00"), 2)
    assert (SETTLEMENT_CONSUMER, again.event_id) in ledger.state.deliveries
    assert ledger.commits == 3  # settle, first, again: the same event id twice commits nothing


async def test_canceling_the_rest_debits_the_order_total_across_sellers_in_one_balance_update() -> None:
    ledger = await settled_ledger("o-3")
    await refund(ledger, canceled("o-3", (1, 7, "1000.00"), of=ORDER))
    ledger.calls.clear()
    await refund(ledger, canceled("o-3", (2, 7, "2000.00"), (3, 8, "3000.00"), of=ORDER, cancel_no=2))
    assert ledger.calls == ["record_delivery", "refund_lookup", "debit", "add_to_balances", "commit"]
    assert sum(d.amount for d in ledger.state.debits.values()) == Decimal("6000.00")
    assert (ledger.balance(7), ledger.balance(8)) == (Decimal("0.00"), Decimal("0.00"))
    assert agrees(ledger, 7, 8)


async def test_a_whole_cancel_that_repeats_lines_already_debited_debits_only_the_others() -> None:
    ledger = await settled_ledger("o-4")
    await refund(ledger, canceled("o-4", (3, 8, "3000.00"), of=ORDER))
    await refund(ledger, canceled("o-4", *ORDER, of=ORDER, cancel_no=2))
    assert sorted(ledger.state.debits) == ["debit:o-4:1", "debit:o-4:2", "debit:o-4:3"]
    assert (ledger.balance(7), ledger.balance(8)) == (Decimal("0.00"), Decimal("0.00"))


async def test_a_balance_goes_below_zero_when_the_seller_owes_the_money() -> None:
    ledger = FakeLedger()
    ledger.add_wallet(7)
    await settle(ledger, paid("o-5", (1, 7, "500.00", "SUCCESS")))
    await refund(ledger, canceled("o-6", (11, 7, "800.00")))  # ahead of its order's PAYMENT_CONFIRM (see below)
    assert (ledger.balance(7), str(ledger.balance(7))) == (Decimal("-300.00"), "-300.00")
    assert agrees(ledger, 7)


async def test_a_version_that_moved_raises_the_transient_conflict_and_keeps_nothing() -> None:
    ledger = await settled_ledger("o-7")
    ledger.moved_before_update.add(7)
    event = canceled("o-7", (1, 7, "1000.00"), of=ORDER)
    with pytest.raises(ConflictError) as raised:
        await refund(ledger, event)
    assert is_transient(raised.value)
    assert (ledger.state.debits, ledger.balance(7)) == ({}, Decimal("3000.00"))
    await retry_on_conflict(lambda: refund(ledger, event), base_delay_s=0.0)
    assert (list(ledger.state.debits), ledger.balance(7)) == (["debit:o-7:1"], Decimal("2000.00"))


@pytest.mark.parametrize(
    ("line", "why"),
    [((2, 7, "1999.00"), "another amount than credited"), ((2, 8, "2000.00"), "another seller than credited")],
)
async def test_a_cancel_that_disagrees_with_the_credit_is_parked_and_writes_nothing(
    line: tuple[int, int, str], why: str
) -> None:
    ledger = await settled_ledger("o-8")
    before = ledger.commits
    with pytest.raises(PermanentError, match="line 2"):
        await refund(ledger, canceled("o-8", line))
    assert (ledger.commits, ledger.state.debits) == (before, {}), why
    assert (ledger.balance(7), ledger.balance(8)) == (Decimal("3000.00"), Decimal("3000.00"))


def _payload(**changes: Any) -> dict[str, Any]:
    return {**canceled("o-9", (1, 7, "1000.00")).payload, **changes}


@pytest.mark.parametrize(
    "payload",
    [
        _payload(orderId=None),
        _payload(lines=[]),
        _payload(lines=[{"paymentOrderNo": 1, "sellerNo": 7, "amount": 1000.0, "productNo": 1}]),
        _payload(lines=[{"paymentOrderNo": 1, "amount": Decimal("1000.00"), "productNo": 1}]),
        _payload(cancelAmount=Decimal("999.00")),
        {k: v for k, v in _payload().items() if k != "cancelAmount"},
    ],
)
async def test_an_invalid_payload_raises_the_permanent_error_and_writes_nothing(payload: dict[str, Any]) -> None:
    ledger = FakeLedger()
    ledger.add_wallet(7)
    with pytest.raises(PermanentError):
        await refund(ledger, Envelope(event_id=1, type="PAYMENT_CANCELED", payload=payload, key="o-9"))
    assert (ledger.commits, ledger.calls) == (0, [])
